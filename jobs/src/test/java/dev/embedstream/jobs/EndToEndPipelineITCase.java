package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole job on a Flink MiniCluster at parallelism 2 against the real Kafka broker, Milvus Lite
 * server, Redis and ONNX model: ingest, update, delete, ask, and check the answers and the Milvus rows.
 */
class EndToEndPipelineITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final TestJob TEST = new TestJob("e2e");
    private static final String DOCS = TEST.documents;
    private static final String QUERIES = TEST.queries;
    private static final String RESPONSES = TEST.responses;
    private static final String DLQ = TEST.deadLetters;

    private static KafkaTestSupport kafka;
    private static MilvusStore milvus;
    private static JobClient job;
    private static List<JsonNode> corpus;

    @BeforeAll
    static void startJob() throws Exception {
        kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
        TEST.createTopics(kafka);
        milvus = TEST.milvus();
        job = TEST.start("--redis.uri", TestServers.redisUri(), "--checkpoint.interval", "2s");
        corpus = TestJob.corpus();
    }

    @AfterAll
    static void stopJob() throws Exception {
        if (job != null) {
            job.cancel().get();
        }
        kafka.close();
        milvus.close();
    }

    @Test
    void documentsLandInMilvusAndQueriesFindThemWithOneResponseEach() throws Exception {
        // 40 real documents, one of them long enough to be chunked.
        List<JsonNode> docs = corpus.stream().filter(d -> d.get("text").asText().length() < 1500).limit(39)
                .collect(Collectors.toCollection(ArrayList::new));
        JsonNode longDoc = corpus.stream().filter(d -> d.get("text").asText().length() > 6000).findFirst().orElseThrow();
        docs.add(longDoc);
        for (JsonNode d : docs) {
            kafka.send(DOCS, d.get("doc_id").asText(), d.toString());
        }
        String copied = docs.get(0).get("text").asText();
        kafka.send(DOCS, "other-1", "{\"doc_id\":\"other-1\",\"tenant\":\"other\",\"text\":" + Json.write(copied) + "}");
        kafka.send(DOCS, "bad-json", "{not json");
        kafka.send(DOCS, "no-text", "{\"doc_id\":\"no-text\"}");

        TestJob.awaitTrue(() -> milvus.count("chunk_index == 0") == docs.size() + 1, WAIT);
        String longId = longDoc.get("doc_id").asText();
        long longChunks = milvus.count("doc_id == " + Json.write(longId));
        assertThat(longChunks).as("chunks of the long document").isGreaterThan(1);
        assertThat(milvus.query("doc_id == " + Json.write(longId), List.of("chunk_id", "content_hash", "tenant")))
                .allSatisfy(r -> {
                    assertThat((String) r.get("chunk_id")).startsWith("default:" + longId + "#");
                    assertThat((String) r.get("content_hash")).hasSize(64);
                    assertThat(r.get("tenant")).isEqualTo("default");
                });

        // Update: the long document becomes short, so its stale chunks go away.
        kafka.send(DOCS, longId, "{\"doc_id\":" + Json.write(longId) + ",\"text\":\"Now a short replacement text.\"}");
        // Delete another one.
        String deletedId = docs.get(1).get("doc_id").asText();
        kafka.send(DOCS, deletedId, "{\"doc_id\":" + Json.write(deletedId) + ",\"op\":\"delete\"}");
        TestJob.awaitTrue(() -> milvus.count("doc_id == " + Json.write(longId)) == 1, WAIT);
        TestJob.awaitTrue(() -> milvus.count("doc_id == " + Json.write(deletedId)) == 0, WAIT);
        assertThat(milvus.query("doc_id == " + Json.write(longId), List.of("text")).get(0).get("text"))
                .isEqualTo("Now a short replacement text.");

        // Queries: each of five documents' own words find that document first.
        Map<String, String> expectFirst = new HashMap<>();
        for (int i = 2; i < 7; i++) {
            JsonNode d = docs.get(i);
            String id = "own-words-" + i;
            expectFirst.put(id, d.get("doc_id").asText());
            kafka.send(QUERIES, id, "{\"request_id\":\"" + id + "\",\"text\":" + Json.write(d.get("text").asText()) + ",\"top_k\":3}");
        }
        kafka.send(QUERIES, "deleted-words", "{\"request_id\":\"deleted-words\",\"text\":"
                + Json.write(docs.get(1).get("text").asText()) + ",\"top_k\":10}");
        kafka.send(QUERIES, "tenant-other", "{\"request_id\":\"tenant-other\",\"tenant\":\"other\",\"text\":" + Json.write(copied) + "}");
        kafka.send(QUERIES, "tenant-default", "{\"request_id\":\"tenant-default\",\"text\":" + Json.write(copied) + ",\"top_k\":50}");
        kafka.send(QUERIES, "filtered", "{\"request_id\":\"filtered\",\"text\":\"read a file\",\"top_k\":10,"
                + "\"filter\":{\"kind\":[\"class\"]}}");
        kafka.send(QUERIES, "partition-1", "{\"request_id\":\"partition-1\",\"text\":\"logging\",\"reply_partition\":1}");
        kafka.send(QUERIES, "bad-top-k", "{\"request_id\":\"bad-top-k\",\"text\":\"x\",\"top_k\":0}");
        kafka.send(QUERIES, "expired", "{\"request_id\":\"expired\",\"text\":\"x\",\"deadline_ms\":1}");
        Set<String> expected = new HashSet<>(expectFirst.keySet());
        expected.addAll(List.of("deleted-words", "tenant-other", "tenant-default", "filtered", "partition-1", "bad-top-k", "expired"));

        List<ConsumerRecord<String, String>> records = kafka.readUntil(RESPONSES,
                rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(expected), WAIT);
        // Give a duplicate the chance to show up before counting.
        records = kafka.readUntil(RESPONSES, rs -> false, Duration.ofSeconds(3));
        Map<String, List<JsonNode>> byId = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            JsonNode resp = Json.mapper().readTree(r.value());
            assertThat(resp.get("request_id").asText()).isEqualTo(r.key());
            byId.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(resp);
        }
        assertThat(byId.keySet()).containsExactlyInAnyOrderElementsOf(expected);
        byId.forEach((id, list) -> assertThat(list).as("responses for %s", id).hasSize(1));

        expectFirst.forEach((id, docId) -> {
            JsonNode resp = byId.get(id).get(0);
            assertThat(resp.get("status").asText()).isEqualTo("ok");
            assertThat(resp.get("model").asText()).isEqualTo("all-minilm-l6-v2");
            assertThat(resp.get("hits").get(0).get("doc_id").asText()).as("first hit for %s", id).isEqualTo(docId);
            assertThat(resp.get("hits").size()).isLessThanOrEqualTo(3);
        });
        assertThat(docIds(byId.get("deleted-words").get(0))).doesNotContain(deletedId);
        assertThat(docIds(byId.get("tenant-other").get(0))).containsExactly("other-1");
        assertThat(docIds(byId.get("tenant-default").get(0))).doesNotContain("other-1").isNotEmpty();
        JsonNode filtered = byId.get("filtered").get(0);
        assertThat(filtered.get("hits").size()).isPositive();
        filtered.get("hits").forEach(h -> assertThat(h.get("metadata").get("kind").asText()).isEqualTo("class"));
        assertThat(docIds(filtered)).doesNotHaveDuplicates();
        assertThat(records.stream().filter(r -> r.key().equals("partition-1")).findFirst().orElseThrow().partition())
                .isEqualTo(1);
        JsonNode bad = byId.get("bad-top-k").get(0);
        assertThat(bad.get("status").asText()).isEqualTo("error");
        assertThat(bad.get("error").get("code").asText()).isEqualTo("invalid_top_k");
        assertThat(byId.get("expired").get(0).get("status").asText()).isEqualTo("expired");

        // Asking the same query under its request id again re-sends the first answer instead of
        // computing it again; another query under that request id is a conflict, never that answer.
        JsonNode first = byId.get("own-words-2").get(0);
        kafka.send(QUERIES, "own-words-2", "{\"request_id\":\"own-words-2\",\"text\":"
                + Json.write(docs.get(2).get("text").asText()) + ",\"top_k\":3,\"deadline_ms\":" + (System.currentTimeMillis() + 60_000) + "}");
        kafka.send(QUERIES, "own-words-2", "{\"request_id\":\"own-words-2\",\"text\":\"something else entirely\"}");
        List<ConsumerRecord<String, String>> again = kafka.readUntil(RESPONSES,
                rs -> rs.stream().filter(r -> r.key().equals("own-words-2")).count() == 3, WAIT);
        List<JsonNode> all = new ArrayList<>();
        for (ConsumerRecord<String, String> r : again) {
            if (r.key().equals("own-words-2")) {
                all.add(Json.mapper().readTree(r.value()));
            }
        }
        assertThat(all).hasSize(3);
        assertThat(all.stream().filter(first::equals)).as("the first answer, and its re-sending").hasSize(2);
        assertThat(all).filteredOn(r -> !r.equals(first)).singleElement()
                .satisfies(r -> assertThat(r.get("error").get("code").asText()).isEqualTo("request_id_conflict"));

        // Bad input went to the DLQ with its reason and provenance; the job kept running.
        List<ConsumerRecord<String, String>> dead = kafka.readUntil(DLQ, rs -> rs.size() >= 3, WAIT);
        Map<String, JsonNode> dlqByKey = new HashMap<>();
        for (ConsumerRecord<String, String> r : dead) {
            dlqByKey.put(r.key(), Json.mapper().readTree(r.value()));
        }
        assertThat(dlqByKey.get("bad-json").get("error").get("code").asText()).isEqualTo("invalid_json");
        assertThat(dlqByKey.get("bad-json").get("source_topic").asText()).isEqualTo(DOCS);
        assertThat(dlqByKey.get("bad-json").get("payload").asText()).isEqualTo("{not json");
        assertThat(dlqByKey.get("no-text").get("error").get("code").asText()).isEqualTo("missing_field");
        assertThat(dlqByKey.get("bad-top-k").get("stage").asText()).isEqualTo("parse");
        assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
    }

    private static List<String> docIds(JsonNode response) {
        List<String> ids = new ArrayList<>();
        response.get("hits").forEach(h -> ids.add(h.get("doc_id").asText()));
        return ids;
    }
}
