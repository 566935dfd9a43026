package dev.embedstream.common.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Op;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DocumentParserTest {

    private final DocumentParser parser = new DocumentParser(new DocumentLimits(1024, 1024, 8, 256));

    private DocumentEvent parse(String json) throws InvalidInputException {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validUpsertKeepsEveryField() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"kb-1\",\"op\":\"upsert\",\"text\":\"hello\",\"tenant\":\"acme\","
                + "\"metadata\":{\"lang\":\"en\",\"n\":3,\"x\":1.5,\"ok\":true}}");
        assertThat(e.docId()).isEqualTo("kb-1");
        assertThat(e.op()).isEqualTo(Op.UPSERT);
        assertThat(e.tenant()).isEqualTo("acme");
        assertThat(e.metadata()).containsEntry("lang", "en").containsEntry("n", 3L).containsEntry("x", 1.5)
                .containsEntry("ok", true);
    }

    @Test
    void opAndTenantAndMetadataHaveDefaults() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"d\",\"text\":\"t\"}");
        assertThat(e.op()).isEqualTo(Op.UPSERT);
        assertThat(e.tenant()).isEqualTo("default");
        assertThat(e.metadata()).isEmpty();
    }

    @Test
    void deleteNeedsNoText() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"d\",\"op\":\"delete\"}");
        assertThat(e.op()).isEqualTo(Op.DELETE);
        assertThat(e.text()).isNull();
    }

    @Test
    void docIdOver512BytesIsRejected() {
        String id = "é".repeat(257); // 514 bytes
        assertThatThrownBy(() -> parse("{\"doc_id\":\"" + id + "\",\"text\":\"t\"}"))
                .hasFieldOrPropertyWithValue("code", "invalid_doc_id");
    }

    @Test
    void textOverTheByteLimitIsRejected() {
        assertThatThrownBy(() -> parse("{\"doc_id\":\"d\",\"text\":\"" + "x".repeat(1025) + "\"}"))
                .hasFieldOrPropertyWithValue("code", "text_too_large")
                .hasMessageContaining("limits.max-text-bytes");
    }

    @Test
    void invalidUtf8IsRejectedNotRepaired() {
        byte[] bad = {'{', '"', 'd', 'o', 'c', '_', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThatThrownBy(() -> parser.parse(bad)).hasFieldOrPropertyWithValue("code", "invalid_utf8");
    }

    @Test
    void tombstoneIsRejected() {
        assertThatThrownBy(() -> parser.parse(null)).hasFieldOrPropertyWithValue("code", "empty_record");
    }

    @Test
    void deeplyNestedJsonIsRejectedWithoutStackOverflow() {
        String deep = "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThatThrownBy(() -> parse(deep)).hasFieldOrPropertyWithValue("code", "invalid_json");
    }

    @Test
    void metadataOverItsSerializedSizeIsMetadataTooLarge() {
        String big = "x".repeat(200);
        String meta = "{\"a\":\"" + big + "\",\"b\":\"" + big + "\",\"c\":\"" + big + "\",\"d\":\"" + big
                + "\",\"e\":\"" + big + "\",\"f\":\"" + big + "\"}";
        assertThatThrownBy(() -> parse("{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":" + meta + "}"))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("metadata_too_large");
    }

    @Test
    void metadataWithTooManyKeysIsMetadataTooLarge() {
        StringBuilder meta = new StringBuilder("{");
        for (int i = 0; i < 9; i++) {
            meta.append(i == 0 ? "" : ",").append("\"k").append(i).append("\":").append(i);
        }
        assertThatThrownBy(() -> parse("{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":" + meta + "}}"))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("metadata_too_large");
    }

    @Test
    void metadataValueOverItsLengthIsMetadataTooLarge() {
        String meta = "{\"k\":\"" + "\u00e9".repeat(129) + "\"}"; // 258 UTF-8 bytes
        assertThatThrownBy(() -> parse("{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":" + meta + "}"))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("metadata_too_large");
    }

    @Test
    void metadataIsCanonicalSoKeyOrderDoesNotMakeANewVersion() throws Exception {
        DocumentEvent a = parse("{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"b\":1,\"a\":2}}");
        DocumentEvent b = parse("{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":2,\"b\":1}}");
        assertThat(Json.write(a.metadata()))
                .isEqualTo(Json.write(b.metadata())).isEqualTo("{\"a\":2,\"b\":1}");
    }

    @Test
    void tombstoneKeyedTenantAndDocIdDeletesThatDocument() throws Exception {
        DocumentEvent e = parser.parseTombstone("acme:kb:1#2".getBytes(StandardCharsets.UTF_8));
        assertThat(e.op()).isEqualTo(Op.DELETE);
        assertThat(e.tenant()).isEqualTo("acme");
        assertThat(e.docId()).isEqualTo("kb:1#2");
    }

    @Test
    void tombstoneKeyWithoutTenantDeletesADocumentOfTheDefaultTenant() throws Exception {
        DocumentEvent e = parser.parseTombstone("kb-1".getBytes(StandardCharsets.UTF_8));
        assertThat(e.tenant()).isEqualTo("default");
        assertThat(e.docId()).isEqualTo("kb-1");
        // What precedes ':' is no tenant when it is not a valid tenant name: all of it is the doc_id.
        assertThat(parser.parseTombstone("a b:c".getBytes(StandardCharsets.UTF_8)).docId()).isEqualTo("a b:c");
    }

    @Test
    void tombstoneWithoutKeyOrWithABadDocIdIsRejected() {
        assertThatThrownBy(() -> parser.parseTombstone(null))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("empty_record");
        assertThatThrownBy(() -> parser.parseTombstone("acme:".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("invalid_doc_id");
        assertThatThrownBy(() -> parser.parseTombstone(new byte[] {(byte) 0xff}))
                .isInstanceOf(InvalidInputException.class).extracting("code").isEqualTo("invalid_utf8");
    }

    @Test
    void anUnpairedSurrogateEscapeIsRejectedWhereverItIs() {
        // Valid UTF-8 bytes, valid JSON, but the string has no UTF-8 form (the tokenizer failed on it).
        for (String json : new String[] {
            "{\"doc_id\":\"d\",\"text\":\"\\ud800 word word\"}",
            "{\"doc_id\":\"d\\udc00\",\"text\":\"t\"}",
            "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"k\":\"x\\ud83d\"}}",
        }) {
            assertThatThrownBy(() -> parse(json)).as(json).hasFieldOrPropertyWithValue("code", "invalid_utf8");
        }
    }

    @Test
    void aSurrogatePairIsAnOrdinaryCharacter() throws Exception {
        assertThat(parse("{\"doc_id\":\"d\",\"text\":\"\\ud83d\\ude00 ok\"}").text()).isEqualTo("\ud83d\ude00 ok");
    }
}
