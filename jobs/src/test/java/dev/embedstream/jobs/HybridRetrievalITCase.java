package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.Fusion;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Query modes in the whole job (parallelism 2, the real ONNX model, Milvus Lite's BM25 function):
 * an identifier only the keyword leg can match is ranked first by {@code keyword} and
 * {@code hybrid}; the fused scores are RRF of the two legs as the job's own dense and keyword
 * answers rank them; the keyword leg keeps tenants and filters apart as the dense one does; and a
 * collection without a keyword index answers {@code mode_unsupported} to a query that names hybrid
 * or keyword, and a query that names no mode densely.
 */
class HybridRetrievalITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(180);
    /** One token for the standard analyzer, in no other document of the corpus. */
    private static final String IDENTIFIER = "qzx_flux_9931";
    private static final String ACME = "acme";
    private static final String GLOBEX = "globex";

    private static String doc(String tenant, String id, String text, Map<String, Object> metadata) {
        return Json.write(Map.of("doc_id", id, "tenant", tenant, "text", text, "metadata", metadata));
    }

    private static String query(String tenant, String id, String text, int topK, Map<String, Object> more) {
        Map<String, Object> q = new LinkedHashMap<>(Map.of("request_id", id, "tenant", tenant, "text", text, "top_k", topK));
        q.putAll(more);
        return Json.write(q);
    }

    private static Map<String, JsonNode> answers(KafkaTestSupport kafka, TestJob test, Set<String> ids) {
        List<ConsumerRecord<String, String>> records = kafka.readUntil(test.responses,
                rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(ids), WAIT);
        Map<String, JsonNode> byId = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            try {
                byId.putIfAbsent(r.key(), Json.parse(r.value()));
            } catch (Exception e) {
                throw new AssertionError("unreadable response " + r.value(), e);
            }
        }
        return byId;
    }

    private static List<String> docs(JsonNode answer) {
        assertThat(answer.path("status").asText()).as("status of %s", answer).isEqualTo("ok");
        List<String> ids = new ArrayList<>();
        answer.path("hits").forEach(h -> ids.add(h.path("doc_id").asText()));
        return ids;
    }

    private static Map<String, Double> scores(JsonNode answer) {
        Map<String, Double> byDoc = new HashMap<>();
        answer.path("hits").forEach(h -> byDoc.put(h.path("doc_id").asText(), h.path("score").asDouble()));
        return byDoc;
    }

    @Test
    void anIdentifierOnlyTheKeywordLegMatchesIsRankedFirstByKeywordAndHybridWithinItsTenantAndFilter() throws Exception {
        TestJob test = new TestJob("hybrid");
        List<JsonNode> corpus = TestJob.corpus().subList(0, 40);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--milvus.write.flush-interval", "100ms");
            for (JsonNode d : corpus) {
                kafka.send(test.documents, ACME + ":" + d.get("doc_id").asText(),
                        doc(ACME, d.get("doc_id").asText(), d.get("text").asText(), Map.of("lang", "en")));
            }
            String needle = "The " + IDENTIFIER + " switch turns off the regulator when the log rotates.";
            kafka.send(test.documents, ACME + ":kb-needle", doc(ACME, "kb-needle", needle, Map.of("lang", "en")));
            // The same identifier in a document of another language, and in another tenant.
            kafka.send(test.documents, ACME + ":kb-needle-de",
                    doc(ACME, "kb-needle-de", "Der Schalter " + IDENTIFIER + " schaltet den Regler ab.", Map.of("lang", "de")));
            kafka.send(test.documents, GLOBEX + ":kb-needle",
                    doc(GLOBEX, "kb-needle", "Globex also names a " + IDENTIFIER + " in its manual.", Map.of("lang", "en")));
            Set<String> chunks = TestJob.expectedChunkIds(corpus).stream().map(id -> ACME + ":" + id.substring(id.indexOf(':') + 1))
                    .collect(Collectors.toSet());
            TestJob.awaitTrue(() -> milvus.count("tenant == \"" + ACME + "\"") == chunks.size() + 2
                    && milvus.count("doc_id in [\"kb-needle\", \"kb-needle-de\"]") == 3, WAIT);

            int depth = Fusion.depth(5);
            kafka.send(test.queries, "dense", query(ACME, "dense", IDENTIFIER, depth, Map.of("mode", "dense", "filter", Map.of("lang", "en"))));
            kafka.send(test.queries, "keyword", query(ACME, "keyword", IDENTIFIER, depth, Map.of("mode", "keyword", "filter", Map.of("lang", "en"))));
            kafka.send(test.queries, "hybrid", query(ACME, "hybrid", IDENTIFIER, 5, Map.of("mode", "hybrid", "filter", Map.of("lang", "en"))));
            kafka.send(test.queries, "weighted", query(ACME, "weighted", IDENTIFIER, 5, Map.of("mode", "hybrid",
                    "filter", Map.of("lang", "en"), "fusion", Map.of("method", "weighted", "dense", 0.5, "keyword", 0.5))));
            kafka.send(test.queries, "keyword-all", query(ACME, "keyword-all", IDENTIFIER, 10, Map.of("mode", "keyword")));
            kafka.send(test.queries, "globex-keyword", query(GLOBEX, "globex-keyword", IDENTIFIER, 10, Map.of("mode", "keyword")));
            kafka.send(test.queries, "globex-hybrid", query(GLOBEX, "globex-hybrid", IDENTIFIER, 10, Map.of("mode", "hybrid")));
            // A text with no term for the analyzer: the hybrid answer still comes (from the dense leg if need be).
            kafka.send(test.queries, "no-terms", query(ACME, "no-terms", "?? !! ...", 5, Map.of("mode", "hybrid")));
            kafka.send(test.queries, "no-terms-keyword", query(ACME, "no-terms-keyword", "?? !! ...", 5, Map.of("mode", "keyword")));
            Map<String, JsonNode> a = answers(kafka, test, Set.of("dense", "keyword", "hybrid", "weighted", "keyword-all",
                    "globex-keyword", "globex-hybrid", "no-terms", "no-terms-keyword"));
            assertThat(a.get("no-terms").path("status").asText()).as("%s", a.get("no-terms")).isEqualTo("ok");
            assertThat(a.get("no-terms").path("hits").size()).isPositive();
            assertThat(a.get("no-terms-keyword").path("status").asText()).as("%s", a.get("no-terms-keyword"))
                    .isIn("ok", "error");
            assertThat(a.get("no-terms-keyword").path("hits")).isEmpty();

            assertThat(docs(a.get("keyword")).get(0)).as("keyword answer %s", a.get("keyword")).isEqualTo("kb-needle");
            List<Double> bm25Scores = new ArrayList<>();
            a.get("keyword").path("hits").forEach(h -> bm25Scores.add(h.path("score").asDouble()));
            assertThat(bm25Scores).as("BM25 scores: positive, best first").allMatch(x -> x > 0)
                    .isSortedAccordingTo(java.util.Comparator.reverseOrder());
            assertThat(docs(a.get("hybrid")).get(0)).isEqualTo("kb-needle");
            assertThat(a.get("hybrid").path("hits").get(0).path("ranks").path("keyword").asInt()).isEqualTo(1);
            // The keyword leg keeps the filter and the tenant: the German copy and globex's are never found.
            assertThat(docs(a.get("keyword"))).doesNotContain("kb-needle-de");
            assertThat(docs(a.get("hybrid"))).doesNotContain("kb-needle-de");
            assertThat(docs(a.get("keyword-all"))).containsExactlyInAnyOrder("kb-needle", "kb-needle-de");
            assertThat(docs(a.get("globex-keyword"))).containsExactly("kb-needle");
            assertThat(a.get("globex-keyword").path("hits").get(0).path("text").asText()).startsWith("Globex");
            assertThat(docs(a.get("globex-hybrid"))).containsExactly("kb-needle");
            assertThat(a.get("globex-hybrid").path("hits").get(0).path("text").asText()).startsWith("Globex");

            // Fusion as computed by hand from the job's own dense and keyword answers at the legs' depth.
            List<String> dense = docs(a.get("dense"));
            List<String> keyword = docs(a.get("keyword"));
            Map<String, Double> expected = new HashMap<>();
            for (int i = 0; i < dense.size(); i++) {
                expected.merge(dense.get(i), 1.0 / (60 + i + 1), Double::sum);
            }
            for (int i = 0; i < keyword.size(); i++) {
                expected.merge(keyword.get(i), 1.0 / (60 + i + 1), Double::sum);
            }
            // Weighted: each leg's score mapped into 0..1 ((1 + cosine) / 2, 2 atan(bm25) / pi), weighed.
            Map<String, Double> cosine = scores(a.get("dense"));
            Map<String, Double> bm25 = scores(a.get("keyword"));
            for (JsonNode h : a.get("weighted").path("hits")) {
                String id = h.path("doc_id").asText();
                double want = (cosine.containsKey(id) ? 0.5 * (1 + cosine.get(id)) / 2 : 0)
                        + (bm25.containsKey(id) ? 0.5 * 2 * Math.atan(bm25.get(id)) / Math.PI : 0);
                assertThat(h.path("score").asDouble()).as("weighted score of %s", id).isCloseTo(want, within(1e-6));
            }
            JsonNode hybrid = a.get("hybrid").path("hits");
            assertThat(hybrid.size()).isEqualTo(5);
            double previous = Double.MAX_VALUE;
            for (JsonNode h : hybrid) {
                String id = h.path("doc_id").asText();
                assertThat(h.path("score").asDouble()).as("RRF score of %s", id).isCloseTo(expected.get(id), within(1e-9));
                assertThat(h.path("score").asDouble()).isLessThanOrEqualTo(previous);
                previous = h.path("score").asDouble();
                if (dense.contains(id)) {
                    assertThat(h.path("ranks").path("dense").asInt()).isEqualTo(dense.indexOf(id) + 1);
                }
                if (keyword.contains(id)) {
                    assertThat(h.path("ranks").path("keyword").asInt()).isEqualTo(keyword.indexOf(id) + 1);
                }
            }
            job.cancel().get();
        }
    }

    @Test
    void onACollectionWithoutAKeywordIndexHybridAndKeywordQueriesAreAnsweredModeUnsupported() throws Exception {
        TestJob test = new TestJob("densonly");
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--milvus.bm25.enabled", "false", "--milvus.write.flush-interval", "100ms",
                    "--redis.uri", TestServers.redisUri(), "--cache.retrieval.epoch-refresh", "200ms");
            kafka.send(test.documents, "default:kb-1", doc("default", "kb-1", "The " + IDENTIFIER + " switch.", Map.of()));
            TestJob.awaitTrue(() -> milvus.count("doc_id == \"kb-1\"") == 1, WAIT);
            for (String mode : List.of("dense", "hybrid", "keyword")) {
                kafka.send(test.queries, mode, query("default", mode, IDENTIFIER, 3, Map.of("mode", mode)));
            }
            kafka.send(test.queries, "default", query("default", "default", IDENTIFIER, 3, Map.of()));
            Map<String, JsonNode> a = answers(kafka, test, Set.of("dense", "hybrid", "keyword", "default"));
            assertThat(docs(a.get("dense"))).containsExactly("kb-1");
            // The job's default mode (hybrid) where the collection cannot serve it: dense, not an error.
            assertThat(docs(a.get("default"))).containsExactly("kb-1");
            assertThat(a.get("default").path("hits").get(0).path("ranks").isMissingNode()).isTrue();
            // The dense answer to the default mode is cached for the next default query, never
            // served to one that names hybrid (that one is still mode_unsupported).
            kafka.send(test.queries, "hybrid-again", query("default", "hybrid-again", IDENTIFIER, 3, Map.of("mode", "hybrid")));
            Map<String, JsonNode> again = answers(kafka, test, Set.of("hybrid-again"));
            assertThat(again.get("hybrid-again").path("error").path("code").asText()).isEqualTo("mode_unsupported");
            for (String mode : List.of("hybrid", "keyword")) {
                assertThat(a.get(mode).path("status").asText()).isEqualTo("error");
                assertThat(a.get(mode).path("error").path("code").asText()).isEqualTo("mode_unsupported");
                assertThat(a.get(mode).path("error").path("message").asText()).contains("mode dense");
            }
            job.cancel().get();
        }
    }
}
