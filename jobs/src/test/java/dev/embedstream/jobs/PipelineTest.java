package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.jobs.operators.RecordingEmbedder;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.KafkaRecord;
import dev.embedstream.jobs.types.Reply;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The whole job graph of {@link Pipeline#define} on a MiniCluster at parallelism 2, without any
 * server: bounded sources of Kafka-shaped records, the fake model of the operator tests, a Milvus
 * writer that records what the sink sends, and collecting sinks for responses and dead letters.
 * Milvus search has no server to reach here (a closed port), so every accepted query must come back
 * as an error response, never silence; that search finds documents is proven against Milvus Lite in
 * EndToEndPipelineITCase. The job runs once; each test checks one promise on what it produced.
 */
class PipelineTest {

    private static final String LONG_TEXT = words("alpha", 40);
    /** Far more chunks than chunk.max-per-document; "overflow" marks its text for the model check. */
    private static final String TOO_LONG_TEXT = words("overflow", 400);

    private static final List<String[]> DOCUMENTS = List.of(
            doc("kb-1", "{\"doc_id\":\"kb-1\",\"tenant\":\"a\",\"text\":\"how to rotate logs\",\"metadata\":{\"lang\":\"en\"}}"),
            doc("kb-1", "{\"doc_id\":\"kb-1\",\"tenant\":\"b\",\"text\":\"tenant b rotates logs otherwise\"}"),
            doc("long", "{\"doc_id\":\"long\",\"text\":\"" + LONG_TEXT + "\"}"),
            doc("gone", "{\"doc_id\":\"gone\",\"op\":\"delete\"}"),
            doc("bad-json", "{not json"),
            doc("no-text", "{\"doc_id\":\"no-text\"}"),
            doc("fat-metadata", "{\"doc_id\":\"fat-metadata\",\"text\":\"five keys\","
                    + "\"metadata\":{\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5}}"),
            doc("too-long", "{\"doc_id\":\"too-long\",\"text\":\"" + TOO_LONG_TEXT + "\"}"));

    private static final List<String[]> QUERIES = List.of(
            doc("q-ok", "{\"request_id\":\"q-ok\",\"text\":\"rotate logs\",\"top_k\":3}"),
            doc("q-bad-top-k", "{\"request_id\":\"q-bad-top-k\",\"text\":\"x\",\"top_k\":0}"),
            doc("q-expired", "{\"request_id\":\"q-expired\",\"text\":\"x\",\"deadline_ms\":1}"),
            doc("not-json", "{not json"),
            doc("q-twice", "{\"request_id\":\"q-twice\",\"text\":\"first words\"}"),
            doc("q-twice", "{\"request_id\":\"q-twice\",\"text\":\"other words\"}"),
            doc("q-again", "{\"request_id\":\"q-again\",\"text\":\"same words\"}"),
            doc("q-again", "{\"request_id\":\"q-again\",\"text\":\"same words\"}"),
            doc("q-tenant", "{\"request_id\":\"q-tenant\",\"tenant\":\"a\",\"text\":\"same id\"}"),
            doc("q-tenant", "{\"request_id\":\"q-tenant\",\"tenant\":\"b\",\"text\":\"same id\"}"));

    private static final CollectingSink<Reply> RESPONSES = new CollectingSink<>();
    private static final CollectingSink<DeadLetterRecord> DEAD_LETTERS = new CollectingSink<>();
    private static final RecordingMilvusWriter MILVUS = new RecordingMilvusWriter();
    private static List<List<String>> modelCalls;

    @BeforeAll
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    static void runTheJobOnBoundedInput() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        JobSettings settings = TestSettings.with(
                // Nothing listens there: no Milvus (searches fail) and no Kafka (no dead letter may need it).
                "milvus.uri", "http://127.0.0.1:" + closedPort, "milvus.rpc-timeout", "1s", "query.search-timeout", "3s",
                "kafka.bootstrap-servers", "127.0.0.1:" + closedPort,
                "chunk.max-tokens", "32", "chunk.overlap-tokens", "8", "chunk.max-per-document", "3",
                "limits.max-metadata-keys", "4");
        RecordingEmbedder.reset();
        // A local environment is a MiniCluster in this JVM, so the sinks' stores are this test's.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(2);
        Pipeline.define(env, new PipelineSources(source("documents", DOCUMENTS), source("queries", QUERIES)),
                new PipelineSinks(RESPONSES, DEAD_LETTERS), settings, RecordingEmbedder::new, MILVUS);
        env.execute("pipeline-test");
        modelCalls = List.copyOf(RecordingEmbedder.CALLS);
    }

    @Test
    void everyValidDocumentReachesMilvusAsChunksOfItsTenantWithTheModelsVectors() {
        Map<String, ChunkRow> rows = new TreeMap<>();
        MILVUS.upserts().forEach(r -> rows.put(r.chunkId(), r));
        assertThat(rows).containsKeys("a:kb-1#0", "b:kb-1#0", "default:long#0", "default:long#1");
        assertThat(rows.keySet()).allMatch(id -> id.startsWith("a:kb-1#") || id.startsWith("b:kb-1#")
                || id.startsWith("default:long#"));
        assertThat(rows.get("a:kb-1#0").text()).isEqualTo("how to rotate logs");
        assertThat(rows.get("a:kb-1#0").metadataJson()).contains("\"lang\"");
        assertThat(rows.get("b:kb-1#0").text()).as("the same doc_id in another tenant is another document")
                .isEqualTo("tenant b rotates logs otherwise");
        List<Integer> longChunks = rows.values().stream().filter(r -> r.docId().equals("long"))
                .map(ChunkRow::chunkIndex).sorted().toList();
        assertThat(longChunks).as("chunks of 32 tokens, overlapping").isEqualTo(IntStream.range(0, longChunks.size()).boxed().toList())
                .hasSizeBetween(2, 3);
        // The fake model's vector is (text length, 1): each row carries the vector of its own text.
        rows.values().forEach(r -> assertThat(r.vector()).as(r.chunkId()).containsExactly(r.text().length(), 1));
        assertThat(MILVUS.deletes()).as("the delete reaches the writer as a delete of every chunk")
                .contains(new RecordingMilvusWriter.Delete("default", List.of("gone"), 0));
    }

    @Test
    void badDocumentsAreDeadLetteredWithTheirCodeAndCostNoModelWork() {
        Map<String, String> codes = new TreeMap<>();
        for (JsonNode letter : letters()) {
            if (letter.path("source_topic").asText().equals("documents")) {
                codes.put(letter.path("error").path("code").asText(), letter.path("stage").asText());
            }
        }
        assertThat(codes).containsExactlyInAnyOrderEntriesOf(Map.of(
                "invalid_json", "parse", "missing_field", "parse", "metadata_too_large", "parse",
                "too_many_chunks", "chunk"));
        assertThat(MILVUS.upserts()).extracting(ChunkRow::docId).doesNotContain("bad-json", "no-text", "fat-metadata", "too-long");
        assertThat(modelCalls).flatExtracting(batch -> batch).as("texts the model embedded")
                .noneMatch(text -> text.contains("overflow") || text.equals("five keys"));
    }

    @Test
    void everyQueryGetsOneTerminalResponseEvenWithMilvusDown() {
        Map<String, List<JsonNode>> byId = RESPONSES.collected().stream()
                .collect(Collectors.groupingBy(Reply::requestId, TreeMap::new,
                        Collectors.mapping(r -> json(r.json()), Collectors.toList())));
        assertThat(byId).containsOnlyKeys("q-ok", "q-bad-top-k", "q-expired", "not-json", "q-twice", "q-again", "q-tenant");

        assertThat(byId.get("q-ok")).singleElement().satisfies(r -> {
            assertThat(r.path("status").asText()).isEqualTo("error");
            assertThat(code(r)).as("no Milvus to search: an error, not silence").isIn("search_failed", "search_timeout");
        });
        assertThat(byId.get("q-bad-top-k")).singleElement().satisfies(r -> assertThat(code(r)).isEqualTo("invalid_top_k"));
        assertThat(byId.get("not-json")).as("a record that is not JSON is answered under its Kafka key").singleElement()
                .satisfies(r -> assertThat(code(r)).isEqualTo("invalid_json"));
        assertThat(byId.get("q-expired")).singleElement()
                .satisfies(r -> assertThat(r.path("status").asText()).isEqualTo("expired"));
        // Whichever of the two arrives first is the query; the other is a conflict, answered at once.
        assertThat(byId.get("q-twice")).hasSize(2).extracting(PipelineTest::code).containsOnlyOnce("request_id_conflict");
        // The same query twice is one query: the repeat gets the first answer or is served by it.
        assertThat(byId.get("q-again")).hasSizeBetween(1, 2).allSatisfy(r -> assertThat(r).isEqualTo(byId.get("q-again").get(0)))
                .extracting(PipelineTest::code).doesNotContain("request_id_conflict");
        assertThat(byId.get("q-tenant")).as("one request id in two tenants is two queries").hasSize(2)
                .extracting(PipelineTest::code).doesNotContain("request_id_conflict");

        assertThat(letters()).filteredOn(l -> l.path("source_topic").asText().equals("queries"))
                .extracting(l -> code(l)).containsExactlyInAnyOrder("invalid_json", "invalid_top_k");
    }

    private static String code(JsonNode response) {
        return response.path("error").path("code").asText();
    }

    private static List<JsonNode> letters() {
        return DEAD_LETTERS.collected().stream().map(l -> json(l.json())).toList();
    }

    private static JsonNode json(String text) {
        try {
            return Json.parse(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String[] doc(String key, String json) {
        return new String[] {key, json};
    }

    private static String words(String word, int count) {
        return String.join(" ", java.util.Collections.nCopies(count, word));
    }

    /** A bounded source of records as the Kafka source delivers them: topic, offset, key and value bytes. */
    private static DataGeneratorSource<KafkaRecord> source(String topic, List<String[]> records) {
        ArrayList<String[]> copy = new ArrayList<>(records);
        return new DataGeneratorSource<>(i -> {
            String[] r = copy.get(Math.toIntExact(i));
            return new KafkaRecord(topic, 0, i, System.currentTimeMillis(), r[0].getBytes(StandardCharsets.UTF_8),
                    r[1].getBytes(StandardCharsets.UTF_8));
        }, copy.size(), TypeInformation.of(KafkaRecord.class));
    }
}
