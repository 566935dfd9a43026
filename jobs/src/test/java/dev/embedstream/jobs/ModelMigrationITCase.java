package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.cache.CacheKeys;
import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.operators.EmbedderFactory;
import dev.embedstream.jobs.settings.ModelSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model migration on the real servers (Kafka, Milvus Lite, Redis, two ONNX models): the
 * serving job ingests with model A; a backfill job (same jar, {@code job.role=backfill}, model B)
 * replays the documents topic into B's collection while documents (new, updated, deleted) and
 * queries keep flowing; the alias is swapped to B, the serving job restarts from a savepoint, then
 * the alias is rolled back to A. Throughout, every query
 * gets exactly one {@code ok} answer, each answer's hits are scored in the vector space of the
 * model its {@code model} field names, and both collections end up holding exactly the live corpus
 * with their own model's vectors.
 */
class ModelMigrationITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final String MODEL_A = "all-minilm-l6-v2";
    /**
     * Another fp32 model. Not the int8 variant of A: dynamic quantisation scales activations per
     * batch, so its vectors move with the batch they were padded into (by ~0.01 in cosine), and
     * the scores could not be checked to 1e-4 against an embedding computed alone.
     */
    private static final String MODEL_B = "bge-small-en-v15";
    private static final String REFRESH = "200ms";
    /** Longer than a few alias refreshes: after it, every query is routed by the new alias target. */
    private static final long SETTLE_MS = 1500;

    /** One query sent: when, and which text. */
    private record Sent(String id, String text, long atMs) {}

    @Test
    void aMigrationReembedsTheLiveCorpusAndTheSwapAndRollbackNeverMixVectorSpaces(@TempDir Path savepoints) throws Exception {
        TestJob test = new TestJob("migrate");
        List<JsonNode> all = TestJob.corpus().stream().filter(d -> d.get("text").asText().length() < 1200).limit(48).toList();
        Map<String, JsonNode> live = new LinkedHashMap<>();
        all.subList(0, 40).forEach(d -> live.put(d.get("doc_id").asText(), d));
        // Queries ask for the start of documents no one changes, so their best hits stay put.
        List<String> texts = all.subList(0, 5).stream().map(d -> d.get("text").asText().substring(0, 80)).toList();
        Set<String> changed = new HashSet<>();

        ModelSettings a = TestSettings.with("model.name", MODEL_A).model();
        ModelSettings b = TestSettings.with("model.name", MODEL_B).model();
        VectorSpace spaceA = EmbedderFactory.onnx(a).space(a);
        VectorSpace spaceB = EmbedderFactory.onnx(b).space(b);
        String collectionA = spaceA.collectionName(test.collection);
        String collectionB = spaceB.collectionName(test.collection);
        assertThat(collectionA).isNotEqualTo(collectionB);

        List<Sent> sent = new ArrayList<>();
        Map<String, Long> phase = new ConcurrentHashMap<>();
        AtomicBoolean asking = new AtomicBoolean(true);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient serving = test.start(servingArgs());
            live.values().forEach(d -> publish(kafka, test, d));
            TestJob.awaitTrue(() -> running(serving) && chunkIds(milvus, collectionA)
                    .equals(TestJob.expectedChunkIds(List.copyOf(live.values()))), WAIT);
            assertThat(milvus.aliasTarget(test.collection)).contains(collectionA);

            Thread asker = new Thread(() -> {
                for (int n = 0; asking.get(); n++) {
                    String id = "q-" + n;
                    String text = texts.get(n % texts.size());
                    synchronized (sent) {
                        sent.add(new Sent(id, text, System.currentTimeMillis()));
                    }
                    kafka.send(test.queries, id, Json.write(Map.of("request_id", id, "text", text, "top_k", 3)));
                    sleep(120);
                }
            }, "asker");
            asker.start();

            JobClient backfill = test.startInGroup("backfill", test.collection + "-backfill", "--job.role", "backfill",
                    "--model.name", MODEL_B, "--checkpoint.interval", "2s");
            // While it replays: updates, deletes (a tombstone and an op=delete) and new documents.
            for (JsonNode d : all.subList(30, 33)) {
                ObjectNode updated = d.deepCopy();
                updated.put("text", "Updated during the backfill: " + d.get("doc_id").asText() + " now talks about tide tables.");
                live.put(d.get("doc_id").asText(), updated);
                changed.add(d.get("doc_id").asText());
                publish(kafka, test, updated);
            }
            String tombstoned = all.get(33).get("doc_id").asText();
            kafka.send(test.documents, "default:" + tombstoned, null);
            String deleted = all.get(34).get("doc_id").asText();
            kafka.send(test.documents, "default:" + deleted, Json.write(Map.of("doc_id", deleted, "op", "delete")));
            live.remove(tombstoned);
            live.remove(deleted);
            changed.addAll(List.of(tombstoned, deleted));
            all.subList(40, 48).forEach(d -> {
                live.put(d.get("doc_id").asText(), d);
                publish(kafka, test, d);
            });
            Set<String> expected = TestJob.expectedChunkIds(List.copyOf(live.values()));
            TestJob.awaitTrue(() -> running(serving) && running(backfill) && chunkIds(milvus, collectionB).equals(expected), WAIT);
            TestJob.awaitTrue(() -> chunkIds(milvus, collectionA).equals(expected), WAIT);
            // Both jobs are caught up: wait for a checkpoint of the serving job past the last
            // document, so its restart below replays nothing into a collection the test reads.
            Thread.sleep(3000);

            CollectionAlias alias = new CollectionAlias(milvus, test.collection);
            phase.put("swap", System.currentTimeMillis());
            assertThat(alias.swapTo(collectionB)).contains(collectionA);
            Thread.sleep(SETTLE_MS);
            phase.put("swapped", System.currentTimeMillis());
            Thread.sleep(2000);
            // The serving job restarts (stopped with a savepoint, resumed from it) under the swapped
            // alias: restored, it is not refused, and its first queries already follow the alias;
            // queries sent while it is down are answered when it is back.
            phase.put("stopping", System.currentTimeMillis());
            String savepoint = serving.stopWithSavepoint(false, savepoints.toUri().toString(),
                    SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
            JobClient resumed = test.start(servingArgs("--execution.state-recovery.path", savepoint));
            TestJob.awaitTrue(() -> running(resumed) && resumed.getJobStatus().join() == JobStatus.RUNNING, WAIT);
            phase.put("resumed", System.currentTimeMillis());
            Thread.sleep(3000);
            phase.put("rollback", System.currentTimeMillis());
            assertThat(alias.rollback()).isEqualTo(collectionA);
            Thread.sleep(SETTLE_MS);
            phase.put("rolledBack", System.currentTimeMillis());
            Thread.sleep(4000);
            asking.set(false);
            asker.join();

            // Every query: exactly one answer, ok.
            Set<String> ids;
            synchronized (sent) {
                ids = sent.stream().map(Sent::id).collect(Collectors.toSet());
            }
            var responses = kafka.readUntil(test.responses,
                    rs -> rs.stream().map(r -> r.key()).collect(Collectors.toSet()).containsAll(ids), WAIT);
            Map<String, List<JsonNode>> answers = new HashMap<>();
            for (var r : responses) {
                answers.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Json.parse(r.value()));
            }
            assertThat(answers.keySet()).containsAll(ids);
            for (Sent s : sent) {
                List<JsonNode> list = answers.get(s.id());
                assertThat(list).as("answers to %s", s.id()).allSatisfy(answer -> assertThat(answer.path("status").asText()).isEqualTo("ok"));
                // Responses are at least once: a query in flight when the job stopped with its
                // savepoint may be answered again after the resume (clients deduplicate by id).
                boolean aroundTheRestart = s.atMs() >= phase.get("stopping") - 2000 && s.atMs() <= phase.get("resumed");
                if (!aroundTheRestart) {
                    assertThat(list).as("answers to %s", s.id()).hasSize(1);
                }
            }

            // Which model answered, by when the query was sent; every answer scored in its model's space.
            Map<String, Map<String, float[]>> vectors = Map.of(MODEL_A, vectorsOf(milvus, collectionA),
                    MODEL_B, vectorsOf(milvus, collectionB));
            Map<String, Map<String, float[]>> queryVectors = Map.of(MODEL_A, embed(a, texts), MODEL_B, embed(b, texts));
            int checkedScores = 0;
            int answeredByTheNewModel = 0;
            for (Sent s : sent) {
                JsonNode answer = answers.get(s.id()).get(0);
                String model = answer.path("model").asText();
                String when = "sent " + (s.atMs() - phase.get("swap")) + " ms after the swap began; phases (ms after it) "
                        + phase.entrySet().stream().map(e -> e.getKey() + " " + (e.getValue() - phase.get("swap")))
                                .collect(Collectors.joining(", ")) + "; answers " + answers.get(s.id());
                // A query follows the alias as it is when the query is routed, which on a loaded
                // machine can be seconds after it was sent: only where both ends of its life fall
                // into one phase is its model certain.
                long answeredAt = s.atMs() + answer.path("took_ms").asLong();
                if (answeredAt < phase.get("swap") || s.atMs() >= phase.get("rolledBack")) {
                    assertThat(model).as("answer to %s (%s), %s", s.id(), answer.path("cache").asText(), when).isEqualTo(MODEL_A);
                } else if (s.atMs() >= phase.get("swapped") && answeredAt < phase.get("rollback")) {
                    assertThat(model).as("answer to %s (%s), %s", s.id(), answer.path("cache").asText(), when).isEqualTo(MODEL_B);
                    answeredByTheNewModel++;
                } else {
                    assertThat(model).isIn(MODEL_A, MODEL_B);
                }
                JsonNode top = answer.path("hits").path(0);
                String chunkId = "default:" + top.path("doc_id").asText() + "#" + top.path("chunk").asInt();
                if (top.isMissingNode() || changed.contains(top.path("doc_id").asText())) {
                    continue;
                }
                double expectedScore = cosine(queryVectors.get(model).get(s.text()), vectors.get(model).get(chunkId));
                String combos = "A.A " + cosine(queryVectors.get(MODEL_A).get(s.text()), vectors.get(MODEL_A).get(chunkId))
                        + " B.B " + cosine(queryVectors.get(MODEL_B).get(s.text()), vectors.get(MODEL_B).get(chunkId))
                        + " A.B " + cosine(queryVectors.get(MODEL_A).get(s.text()), vectors.get(MODEL_B).get(chunkId))
                        + " B.A " + cosine(queryVectors.get(MODEL_B).get(s.text()), vectors.get(MODEL_A).get(chunkId))
                        + " sent " + (s.atMs() - phase.get("swap")) + " ms after the swap; " + answer;
                assertThat(top.path("score").asDouble()).as("score of %s's top hit in %s's space (%s)", s.id(), model, combos)
                        .isCloseTo(expectedScore, org.assertj.core.data.Offset.offset(1e-4));
                checkedScores++;
            }
            assertThat(checkedScores).isGreaterThan(sent.size() / 2);
            assertThat(answeredByTheNewModel).as("queries sent after the swap settled and answered before the rollback")
                    .isGreaterThanOrEqualTo(5);

            // Both collections: exactly the live corpus, updates present, with their own model's vectors.
            assertVectorsAreTheModels(milvus, collectionA, a);
            assertVectorsAreTheModels(milvus, collectionB, b);
            for (String docId : changed) {
                JsonNode doc = live.get(docId);
                if (doc != null) {
                    assertThat(milvus.withCollection(collectionB).query("doc_id == \"" + docId + "\"", List.of("text")))
                            .extracting(r -> r.get("text")).containsExactly(doc.get("text").asText());
                }
            }

            // A fresh serving job of model B while the alias serves A's collection refuses to run.
            backfill.cancel().get();
            JobClient refused = test.startInGroup("refused", test.collection + "-refused", "--model.name", MODEL_B);
            assertThatThrownBy(() -> refused.getJobExecutionResult().get(120, TimeUnit.SECONDS))
                    .hasStackTraceContaining("serves collection '" + collectionA + "'")
                    .hasStackTraceContaining(spaceA.hash())
                    .hasStackTraceContaining(spaceB.hash())
                    .hasStackTraceContaining("scripts/embedstream migrate --to-model " + MODEL_B);
            assertThat(milvus.aliasTarget(test.collection)).contains(collectionA);

            resumed.cancel().get();
        } finally {
            asking.set(false);
        }
    }

    private static String[] servingArgs(String... more) {
        List<String> args = new ArrayList<>(List.of("--redis.uri", TestServers.redisUri(), "--checkpoint.interval", "2s",
                "--milvus.alias-refresh", REFRESH, "--cache.retrieval.epoch-refresh", "200ms",
                // Dense: the test checks each answer's score against the cosine in its model's space.
                "--milvus.search.default-mode", "dense"));
        args.addAll(List.of(more));
        return args.toArray(String[]::new);
    }

    /** True while the job runs; a job that ended fails the test at once, with its cause. */
    private static boolean running(JobClient job) {
        try {
            if (job.getJobStatus().get().isGloballyTerminalState()) {
                job.getJobExecutionResult().get();
                throw new AssertionError("job " + job.getJobID() + " ended");
            }
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new AssertionError("job " + job.getJobID() + " failed", e);
        }
        return true;
    }

    private static void publish(KafkaTestSupport kafka, TestJob test, JsonNode d) {
        kafka.send(test.documents, "default:" + d.get("doc_id").asText(), d.toString());
    }

    private static Set<String> chunkIds(MilvusStore milvus, String collection) {
        return milvus.withCollection(collection).query("chunk_index >= 0", List.of("chunk_id")).stream()
                .map(r -> (String) r.get("chunk_id")).collect(Collectors.toSet());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, float[]> vectorsOf(MilvusStore milvus, String collection) {
        Map<String, float[]> out = new HashMap<>();
        for (Map<String, Object> r : milvus.withCollection(collection).query("chunk_index >= 0", List.of("chunk_id", "vector"))) {
            List<Float> v = (List<Float>) r.get("vector");
            float[] f = new float[v.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = v.get(i);
            }
            out.put((String) r.get("chunk_id"), f);
        }
        return out;
    }

    private static Map<String, float[]> embed(ModelSettings model, List<String> texts) {
        Map<String, float[]> out = new HashMap<>();
        try (Embedder e = EmbedderFactory.onnx(model).open()) {
            // The job embeds normalised text (CacheKeys), so must this.
            float[][] v = e.embed(texts.stream().map(CacheKeys::normalise).toList());
            for (int i = 0; i < texts.size(); i++) {
                out.put(texts.get(i), v[i]);
            }
        }
        return out;
    }

    /** Every row's vector is the model's own embedding of the row's text (cosine >= 0.9999). */
    @SuppressWarnings("unchecked")
    private static void assertVectorsAreTheModels(MilvusStore milvus, String collection, ModelSettings model) {
        List<Map<String, Object>> rows = milvus.withCollection(collection).query("chunk_index >= 0", List.of("text", "vector"));
        List<String> rowTexts = rows.stream().map(r -> (String) r.get("text")).toList();
        Map<String, float[]> direct = embed(model, rowTexts);
        for (Map<String, Object> r : rows) {
            List<Float> v = (List<Float>) r.get("vector");
            float[] stored = new float[v.size()];
            for (int i = 0; i < stored.length; i++) {
                stored[i] = v.get(i);
            }
            assertThat(cosine(stored, direct.get((String) r.get("text")))).as("row of %s in %s", model.name(), collection)
                    .isGreaterThanOrEqualTo(0.9999);
        }
    }

    private static double cosine(float[] x, float[] y) {
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.length; i++) {
            dot += x[i] * y[i];
            nx += x[i] * x[i];
            ny += y[i] * y[i];
        }
        return dot / Math.sqrt(nx * ny);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
