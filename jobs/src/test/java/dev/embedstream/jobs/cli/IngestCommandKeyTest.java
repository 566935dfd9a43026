package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.validation.DocumentLimits;
import dev.embedstream.common.validation.DocumentParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * On the compacted documents topic the key is what compaction keeps one record of, and what a
 * tombstone deletes: the CLI's key of an event must name exactly the document (tenant, doc_id)
 * that the event's value names, so that all events of one document share a key (compaction keeps
 * its latest) and a tombstone with that key deletes that document, not another tenant's.
 */
class IngestCommandKeyTest {

    private final DocumentParser parser = new DocumentParser(DocumentLimits.DEFAULTS);

    @Test
    void aKeyNamesTheDocumentOfItsValueSoItsTombstoneDeletesThatDocument() throws Exception {
        for (String line : List.of(
                "{\"doc_id\":\"kb-1\",\"text\":\"x\"}",
                "{\"doc_id\":\"kb-1\",\"tenant\":\"acme\",\"text\":\"x\"}",
                "{\"doc_id\":\"a:b\",\"text\":\"a doc_id with a colon in the default tenant\"}",
                "{\"doc_id\":\"a:b\",\"tenant\":\"acme\",\"op\":\"delete\"}")) {
            var value = parser.parse(line.getBytes(StandardCharsets.UTF_8));
            String key = IngestCommand.key(line);
            var tombstone = parser.parseTombstone(key.getBytes(StandardCharsets.UTF_8));
            assertThat(List.of(tombstone.tenant(), tombstone.docId())).as("key %s of %s", key, line)
                    .isEqualTo(List.of(value.tenant(), value.docId()));
        }
    }

    @Test
    void anUpsertAndADeleteOfOneDocumentShareAKeyAndTwoTenantsDoNot() {
        String upsert = IngestCommand.key("{\"doc_id\":\"kb-1\",\"tenant\":\"acme\",\"text\":\"x\"}");
        assertThat(IngestCommand.key("{\"tenant\":\"acme\",\"op\":\"delete\",\"doc_id\":\"kb-1\"}")).isEqualTo(upsert);
        assertThat(IngestCommand.key("{\"doc_id\":\"kb-1\",\"tenant\":\"globex\",\"text\":\"x\"}")).isNotEqualTo(upsert);
        assertThat(IngestCommand.key("{\"doc_id\":\"kb-1\",\"text\":\"x\"}")).isEqualTo("default:kb-1");
    }

    @Test
    void aLineThatNamesNoDocumentGetsAKeyACompactedTopicAcceptsAndWhoseTombstoneNamesNoRealDocument() throws Exception {
        for (String line : List.of("{not json", "{\"text\":\"no doc_id\"}", "{\"doc_id\":7,\"text\":\"x\"}")) {
            String key = IngestCommand.key(line);
            assertThat(key).as(line).isNotNull().startsWith(IngestCommand.UNPARSED_KEY_PREFIX);
            var tombstone = parser.parseTombstone(key.getBytes(StandardCharsets.UTF_8));
            assertThat(List.of(tombstone.tenant(), tombstone.docId())).as(line).isEqualTo(List.of("default", key));
        }
        assertThat(IngestCommand.key("{not json")).isNotEqualTo(IngestCommand.key("{not json either"));
    }
}
