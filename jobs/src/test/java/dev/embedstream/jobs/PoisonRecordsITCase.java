package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Poison records between good ones, through the whole job (parallelism 2, restarts allowed, so a
 * record that failed the job would show as a restart rather than as a dead job): an oversized
 * payload of control bytes, one of bytes that are not UTF-8, oversized metadata, a document that
 * chunks past the cap, a query whose answer would exceed the response budget, a query text over
 * its limit, a document Milvus refuses, and garbage written over every cache entry in Redis. The
 * job's exception history (REST API) names no record, every good document lands, every poison
 * record is in the DLQ with its code, and every query is answered. The job saw no exception but
 * a remote call timing out (a loaded machine's Milvus), which a restart is for.
 */
class PoisonRecordsITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(180);
    private static final int RESPONSE_BUDGET = 512 * 1024;

    private static String doc(String id, String text, Map<String, Object> metadata) {
        return Json.write(Map.of("doc_id", id, "tenant", "default", "text", text, "metadata", metadata));
    }

    private static String query(String id, String text, int topK) {
        return Json.write(Map.of("request_id", id, "text", text, "top_k", topK));
    }

    @Test
    void poisonRecordsAreDeadLetteredAndNeverRestartTheJob(@InjectMiniCluster MiniCluster cluster) throws Exception {
        TestJob test = new TestJob("poison");
        List<JsonNode> corpus = TestJob.corpus().subList(900, 960);
        Map<String, String> expectedDead = new LinkedHashMap<>(); // DLQ key -> code
        Set<String> queries = new HashSet<>();
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus();
                RedisClient redisClient = RedisClient.create(TestServers.redisUri());
                StatefulRedisConnection<String, String> redis = redisClient.connect()) {
            test.createTopics(kafka);
            PoisonCollection.create(test.collection);
            JobClient job = test.start("--redis.uri", TestServers.redisUri(), "--checkpoint.interval", "2s",
                    "--restart-strategy.type", "fixed-delay", "--restart-strategy.fixed-delay.attempts", "100",
                    "--restart-strategy.fixed-delay.delay", "1s", "--cache.retrieval.epoch-refresh", "200ms");
            URI rest = cluster.getRestAddress().get();

            // A first half of good documents and good queries, so the caches hold entries.
            for (JsonNode d : corpus.subList(0, 30)) {
                kafka.send(test.documents, "default:" + d.get("doc_id").asText(), d.toString());
            }
            TestJob.awaitTrue(() -> docsIn(milvus, corpus.subList(0, 30)), WAIT);
            for (int i = 0; i < 5; i++) {
                String id = "warm-" + i;
                kafka.send(test.queries, id, query(id, corpus.get(i).get("text").asText(), 3));
                queries.add(id);
            }
            awaitAnswers(kafka, test, queries);

            // Garbage over every cache entry and epoch the job wrote to Redis.
            int corrupted = corruptEveryKey(redis);
            assertThat(corrupted).as("cache entries and epochs found in Redis").isPositive();

            // Poison, each between good records.
            List<JsonNode> good = corpus.subList(30, 60);
            int g = 0;
            byte[] controlBytes = new byte[200_000];
            Arrays.fill(controlBytes, (byte) 0x01);
            kafka.sendBytes(test.documents, "poison-control".getBytes(StandardCharsets.UTF_8), controlBytes);
            expectedDead.put("poison-control", "invalid_json");
            g = sendGood(kafka, test, good, g, 3);

            byte[] notUtf8 = new byte[300_000];
            new java.util.Random(7).nextBytes(notUtf8);
            notUtf8[0] = (byte) 0xff;
            kafka.sendBytes(test.documents, "poison-bytes".getBytes(StandardCharsets.UTF_8), notUtf8);
            expectedDead.put("poison-bytes", "invalid_utf8");
            g = sendGood(kafka, test, good, g, 3);

            Map<String, Object> fatMetadata = new HashMap<>();
            for (int i = 0; i < 10; i++) {
                fatMetadata.put("m" + i, "v".repeat(4000));
            }
            kafka.send(test.documents, "default:poison-meta", doc("poison-meta", "text", fatMetadata));
            expectedDead.put("default:poison-meta", "metadata_too_large");
            g = sendGood(kafka, test, good, g, 3);

            kafka.send(test.documents, "default:poison-long", doc("poison-long", "a ".repeat(200_000), Map.of()));
            expectedDead.put("default:poison-long", "too_many_chunks");
            g = sendGood(kafka, test, good, g, 3);

            String refused = PoisonCollection.REFUSED_DOC_ID;
            kafka.send(test.documents, "default:" + refused, doc(refused, "Milvus refuses this doc_id.", Map.of()));
            expectedDead.put("default:" + refused, "milvus_rejected");
            g = sendGood(kafka, test, good, g, 3);

            // 40 documents with ~15 KB of metadata each: a top_k 100 answer would be ~600 KB.
            List<String> fat = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                String id = "fat-" + i;
                fat.add(id);
                kafka.send(test.documents, "default:" + id, doc(id, "The walrus " + i + " sings about zebracorns.",
                        Map.of("a", "w".repeat(3900), "b", "x".repeat(3900), "c", "y".repeat(3900), "d", "z".repeat(3000))));
            }
            g = sendGood(kafka, test, good, g, good.size() - g);

            TestJob.awaitTrue(() -> docsIn(milvus, good) && milvus.count("doc_id like \"fat-%\"") == 40, WAIT);
            kafka.send(test.queries, "fat-answer", query("fat-answer", "the walrus sings about zebracorns", 100));
            kafka.send(test.queries, "huge-question", query("huge-question", "q".repeat(600_000), 3));
            queries.add("fat-answer");
            queries.add("huge-question");
            expectedDead.put("huge-question", "text_too_large");
            for (int i = 0; i < 5; i++) {
                String id = "after-" + i;
                kafka.send(test.queries, id, query(id, corpus.get(i).get("text").asText(), 3));
                queries.add(id);
            }
            Map<String, JsonNode> answers = awaitAnswers(kafka, test, queries);

            // Every query answered; cache garbage only made misses, never wrong or failed answers.
            for (int i = 0; i < 5; i++) {
                JsonNode a = answers.get("after-" + i);
                assertThat(a.get("status").asText()).as("after-%d", i).isEqualTo("ok");
                assertThat(a.get("hits").get(0).get("doc_id").asText()).isEqualTo(corpus.get(i).get("doc_id").asText());
            }
            JsonNode fatAnswer = answers.get("fat-answer");
            assertThat(fatAnswer.get("status").asText()).isEqualTo("ok");
            assertThat(fatAnswer.get("truncated").asBoolean()).isTrue();
            assertThat(Json.write(fatAnswer).getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(RESPONSE_BUDGET);
            assertThat(answers.get("huge-question").get("error").get("code").asText()).isEqualTo("text_too_large");

            // Every poison record in the DLQ with its code; no good document there.
            List<ConsumerRecord<String, String>> dead = kafka.readUntil(test.deadLetters,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(expectedDead.keySet()),
                    WAIT);
            Map<String, String> codes = new HashMap<>();
            for (ConsumerRecord<String, String> r : dead) {
                JsonNode dl = Json.parse(r.value());
                codes.put(r.key(), dl.get("error").get("code").asText());
                assertThat(r.serializedValueSize()).as("dead letter of %s", r.key()).isLessThan(80 * 1024);
            }
            assertThat(codes).containsAllEntriesOf(expectedDead);
            assertThat(codes.keySet()).hasSize(expectedDead.size());

            // No record failed the job: whatever it saw was a remote call timing out on a loaded machine.
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
            assertThat(JobDiagnosis.recordFailures(rest, job)).isEmpty();
            job.cancel().get();
        }
    }

    private static int sendGood(KafkaTestSupport kafka, TestJob test, List<JsonNode> good, int from, int n) {
        for (JsonNode d : good.subList(from, from + n)) {
            kafka.send(test.documents, "default:" + d.get("doc_id").asText(), d.toString());
        }
        return from + n;
    }

    private static boolean docsIn(MilvusStore milvus, List<JsonNode> docs) {
        Set<String> want = docs.stream().map(d -> d.get("doc_id").asText()).collect(Collectors.toSet());
        Set<String> have = new HashSet<>();
        for (Map<String, Object> r : milvus.query("chunk_index == 0", List.of("doc_id"))) {
            have.add((String) r.get("doc_id"));
        }
        return have.containsAll(want);
    }

    private static Map<String, JsonNode> awaitAnswers(KafkaTestSupport kafka, TestJob test, Set<String> ids) throws Exception {
        List<ConsumerRecord<String, String>> records = kafka.readUntil(test.responses,
                rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(ids), WAIT);
        Map<String, JsonNode> first = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            assertThat(r.serializedValueSize()).as("response %s", r.key()).isLessThanOrEqualTo(RESPONSE_BUDGET);
            if (!first.containsKey(r.key())) {
                first.put(r.key(), Json.parse(r.value()));
            }
        }
        return first;
    }

    /** Overwrites every string key under {@code embedstream:} with bytes no cache can read. */
    private static int corruptEveryKey(StatefulRedisConnection<String, String> redis) {
        int n = 0;
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.sync().scan(cursor, ScanArgs.Builder.matches("embedstream:*").limit(500));
            for (String key : page.getKeys()) {
                if ("string".equals(redis.sync().type(key)) && !key.contains("epoch-gen")) {
                    redis.sync().set(key, "garbage\u0000not-a-number-nor-a-vector");
                    n++;
                }
            }
            cursor = page;
        } while (!cursor.isFinished());
        return n;
    }
}
