package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.ServerControl;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedding and retrieval caches in the whole job (parallelism 2) against the real Kafka,
 * Milvus Lite and redis-server: answers are never older than the last write nor another tenant's,
 * and a Redis killed mid-run costs no document and no answer, and is used again when it returns.
 */
class CachesEndToEndITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final long REFRESH_MS = 500;

    private static JobClient start(TestJob test) throws Exception {
        // Dense: a question made of a document's own first words finds that document first by
        // cosine; fused with BM25, a near-tie can put a sibling first (RRF 0.0325 vs 0.0323 seen),
        // and these tests are about what the caches serve, not about ranking.
        return test.start("--redis.uri", TestServers.redisUri(), "--cache.retrieval.epoch-refresh", REFRESH_MS + "ms",
                "--checkpoint.interval", "2s", "--milvus.write.flush-interval", "200ms", "--milvus.search.default-mode", "dense");
    }

    private static String query(String id, String tenant, String text) {
        return Json.write(Map.of("request_id", id, "tenant", tenant, "text", text, "top_k", 3));
    }

    /** The first response per request id, once all of {@code ids} have one. */
    private static Map<String, JsonNode> answers(KafkaTestSupport kafka, TestJob test, Set<String> ids) throws Exception {
        List<ConsumerRecord<String, String>> records = kafka.readUntil(test.responses,
                rs -> rs.stream().map(ConsumerRecord::key).collect(java.util.stream.Collectors.toSet()).containsAll(ids), WAIT);
        Map<String, JsonNode> first = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            if (!first.containsKey(r.key())) {
                first.put(r.key(), Json.parse(r.value()));
            }
        }
        assertThat(first.keySet()).containsAll(ids);
        return first;
    }

    private static JsonNode ask(KafkaTestSupport kafka, TestJob test, String tenant, String text) throws Exception {
        String id = "q-" + UUID.randomUUID();
        kafka.send(test.queries, id, query(id, tenant, text));
        return answers(kafka, test, Set.of(id)).get(id);
    }

    private static String doc(String id, String tenant, String text) {
        return Json.write(Map.of("doc_id", id, "tenant", tenant, "text", text));
    }

    @Test
    void anAnswerIsNeverOlderThanTheLastWriteNorAnotherTenants() throws Exception {
        TestJob test = new TestJob("cache-epoch");
        String marker = UUID.randomUUID().toString().substring(0, 8);
        String question = "how does the zebracorn " + marker + " migrate in winter";
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = start(test);
            try {
                kafka.send(test.documents, "zebra", doc("zebra", "acme",
                        "The zebracorn " + marker + " migrates south in winter, version one."));
                TestJob.awaitTrue(() -> TestJob.count(milvus) == 1, WAIT);
                // The sink bumps the tenant's epoch right after the write shows: an answer computed
                // before that bump is (rightly) not served after it.
                Thread.sleep(REFRESH_MS);

                JsonNode first = ask(kafka, test, "acme", question);
                assertThat(first.get("cache").asText()).isEqualTo("miss");
                assertThat(first.get("hits").get(0).get("text").asText()).contains("version one");
                JsonNode repeated = ask(kafka, test, "acme", question);
                assertThat(repeated.get("cache").asText()).as("the same question again").isEqualTo("hit");
                assertThat(repeated.get("hits")).isEqualTo(first.get("hits"));

                JsonNode otherTenant = ask(kafka, test, "globex", question);
                assertThat(otherTenant.get("hits")).as("another tenant's answer to the same text").isEmpty();

                kafka.send(test.documents, "zebra", doc("zebra", "acme",
                        "The zebracorn " + marker + " migrates north in winter, version two."));
                TestJob.awaitTrue(() -> milvus.query("doc_id == \"zebra\"", List.of("text")).stream()
                        .anyMatch(r -> r.get("text").toString().contains("version two")), WAIT);
                // Committed; after the epoch refresh interval no query may see the old answer.
                Thread.sleep(REFRESH_MS + 100);
                for (int i = 0; i < 3; i++) {
                    JsonNode after = ask(kafka, test, "acme", question);
                    assertThat(after.get("hits").get(0).get("text").asText()).as("answer %d after the write", i)
                            .contains("version two");
                }
            } finally {
                job.cancel().get();
            }
        }
    }

    @Test
    void redisKilledMidRunCostsNoDocumentNorAnswerAndHitsResumeWhenItReturns() throws Exception {
        TestJob test = new TestJob("cache-outage");
        List<JsonNode> corpus = TestJob.corpus().subList(600, 690);
        List<JsonNode> before = corpus.subList(0, 45);
        List<JsonNode> during = corpus.subList(45, 90);
        Set<String> expected = TestJob.expectedChunkIds(corpus);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = start(test);
            try {
                for (JsonNode d : before) {
                    kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
                }
                Set<String> firstHalf = TestJob.expectedChunkIds(before);
                TestJob.awaitTrue(() -> TestJob.count(milvus) == firstHalf.size(), WAIT);
                assertAnsweredByTheirOwnDocument(kafka, test, before.subList(0, 10), "warm");

                ServerControl.killRedis();
                try {
                    for (JsonNode d : during) {
                        kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
                    }
                    // Asked twice each: with Redis gone the answers still come, correct, just not cached.
                    assertAnsweredByTheirOwnDocument(kafka, test, before.subList(0, 10), "outage-a");
                    assertAnsweredByTheirOwnDocument(kafka, test, before.subList(10, 20), "outage-b");
                    TestJob.awaitTrue(() -> TestJob.count(milvus) == expected.size(), WAIT);
                    assertAnsweredByTheirOwnDocument(kafka, test, during.subList(0, 10), "outage-c");
                } finally {
                    ServerControl.startRedis();
                }

                Set<String> ids = new HashSet<>();
                for (Map<String, Object> row : milvus.query("chunk_index >= 0", List.of("chunk_id"))) {
                    ids.add(row.get("chunk_id").toString());
                }
                assertThat(ids).as("every chunk once, none missing, none extra").isEqualTo(expected);
                assertThat(TestJob.count(milvus)).isEqualTo(expected.size());

                // Redis is back (empty): a repeated question is a hit again once the breaker lets calls through.
                String text = ownWords(during.get(20));
                TestJob.awaitTrue(() -> {
                    try {
                        ask(kafka, test, "default", text);
                        return ask(kafka, test, "default", text).get("cache").asText().equals("hit");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }, Duration.ofSeconds(60));
            } finally {
                job.cancel().get();
            }
        }
    }

    private static String ownWords(JsonNode doc) {
        String text = doc.get("text").asText();
        return text.substring(0, Math.min(200, text.length()));
    }

    /** Asks each document's own words; every answer is {@code ok} with that document first. */
    private static void assertAnsweredByTheirOwnDocument(KafkaTestSupport kafka, TestJob test, List<JsonNode> docs,
            String round) throws Exception {
        Map<String, String> expectedDoc = new LinkedHashMap<>();
        for (JsonNode d : docs) {
            String id = round + "-" + d.get("doc_id").asText();
            expectedDoc.put(id, d.get("doc_id").asText());
            kafka.send(test.queries, id, query(id, "default", ownWords(d)));
        }
        Map<String, JsonNode> got = answers(kafka, test, expectedDoc.keySet());
        List<String> wrong = new ArrayList<>();
        expectedDoc.forEach((id, docId) -> {
            JsonNode a = got.get(id);
            if (!a.get("status").asText().equals("ok") || a.get("hits").isEmpty()
                    || !a.get("hits").get(0).get("doc_id").asText().equals(docId)) {
                wrong.add(id + " -> " + a);
            }
        });
        assertThat(wrong).as("answers of round %s", round).isEmpty();
    }
}
