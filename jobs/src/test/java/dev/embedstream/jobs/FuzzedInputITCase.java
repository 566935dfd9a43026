package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.common.validation.DocumentLimits;
import dev.embedstream.common.validation.DocumentParser;
import dev.embedstream.common.validation.InvalidInputException;
import dev.embedstream.common.validation.QueryParser;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
 * Thousands of mutated records (bit flips, truncation, hostile strings, deep nesting, duplicate
 * keys, wrong types, invalid UTF-8, tombstones, and records up to the broker's 1 MiB limit: control
 * bytes, random bytes, oversized metadata and text, documents that chunk past the cap) through the
 * running job: no record ever fails it (its exception history names infrastructure only: a remote
 * call that timed out on a loaded machine), every document is either in Milvus or in
 * the DLQ with its key (a tombstone is a delete), every dead letter fits its budget, and every
 * query that names a request id is answered once.
 */
class FuzzedInputITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final int DOCUMENTS = 1500;
    private static final int QUERIES = 500;
    private static final Duration WAIT = Duration.ofSeconds(240);

    private static final String[] HOSTILE = {
        "\u0000", "\"", "\\", "\") or tenant != (\"", "' OR 1=1 --", "]]}}", "{\"$ne\":null}", "\uD800", "\uFFFF",
        "😀", "\n\t\r", "null", "true", "1e309", "-0", "metadata[\"x\"] == 1", "a".repeat(600),
    };

    private final Random random = new Random(20261123);

    /** Size mutations, up to the broker's record limit (1 MiB): one record in about 40. */
    private byte[] oversize(String valid) {
        int size = 200_000 + random.nextInt(800_000);
        switch (random.nextInt(5)) {
            case 0 -> { // control bytes: valid UTF-8 that JSON escapes sixfold
                byte[] b = new byte[size];
                java.util.Arrays.fill(b, (byte) 0x01);
                return b;
            }
            case 1 -> { // random bytes, not UTF-8
                byte[] b = new byte[size];
                random.nextBytes(b);
                b[0] = (byte) 0xff;
                return b;
            }
            case 2 -> { // metadata over its 16 KiB limit (each value within its own 4 KiB)
                StringBuilder meta = new StringBuilder("{");
                for (int i = 0; i < 5; i++) {
                    meta.append(i == 0 ? "" : ",").append("\"m").append(i).append("\":\"").append("v".repeat(4000)).append('"');
                }
                return valid.replaceFirst("\\{", "{\"metadata\": " + meta + "}, ").getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> { // text over limits.max-text-bytes
                return valid.replace("\"text\": \"", "\"text\": \"" + "x".repeat(600_000)).getBytes(StandardCharsets.UTF_8);
            }
            default -> { // within the text limit, but a document of it makes far more than 512 chunks
                return valid.replace("\"text\": \"", "\"text\": \"" + "a ".repeat(200_000)).getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    private byte[] mutate(String valid) {
        byte[] b = valid.getBytes(StandardCharsets.UTF_8);
        if (random.nextInt(40) == 0) {
            return oversize(valid);
        }
        switch (random.nextInt(12)) {
            case 0 -> { // bit flips
                for (int i = 0; i < 1 + random.nextInt(4); i++) {
                    int at = random.nextInt(b.length);
                    b[at] ^= (byte) (1 << random.nextInt(8));
                }
                return b;
            }
            case 1 -> { // truncation
                return java.util.Arrays.copyOf(b, random.nextInt(b.length));
            }
            case 2 -> { // hostile string spliced in
                int at = random.nextInt(valid.length());
                return (valid.substring(0, at) + HOSTILE[random.nextInt(HOSTILE.length)] + valid.substring(at))
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 3 -> { // hostile string as a value
                String hostile = Json.write(HOSTILE[random.nextInt(HOSTILE.length)]);
                return valid.replace("\"text\": \"", "\"text\": \"" + hostile.substring(1, hostile.length() - 1))
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 4 -> { // deep nesting
                int depth = 10 + random.nextInt(5000);
                return ("{\"doc_id\":\"deep\",\"text\":\"t\",\"metadata\":" + "[".repeat(depth) + "]".repeat(depth) + "}")
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 5 -> { // duplicate keys
                return valid.replaceFirst("\\{", "{\"doc_id\": \"dup\", ").getBytes(StandardCharsets.UTF_8);
            }
            case 6 -> { // wrong types
                return valid.replaceFirst("\"tenant\": \"default\"", "\"tenant\": " + random.nextInt(9))
                        .replaceFirst("\"text\": ", random.nextBoolean() ? "\"text\": 42, \"x\": " : "\"text\": ")
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 7 -> { // invalid UTF-8
                byte[] out = java.util.Arrays.copyOf(b, b.length + 2);
                out[b.length] = (byte) 0xC3;
                out[b.length + 1] = (byte) 0x28;
                return out;
            }
            case 8 -> { // tombstone
                return null;
            }
            case 9 -> { // non-object JSON
                return (random.nextBoolean() ? "[" + valid + "]" : "\"" + valid.length() + "\"").getBytes(StandardCharsets.UTF_8);
            }
            default -> { // valid
                return b;
            }
        }
    }

    @Test
    void mutatedInputNeverFailsTheJobAndEveryRecordIsProcessedOrDeadLettered(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        TestJob test = new TestJob("fz");
        List<String> corpus = TestJob.corpus().subList(0, 300).stream().map(JsonNode::toString).toList();

        DocumentParser docParser = new DocumentParser(DocumentLimits.DEFAULTS);
        QueryParser queryParser = new QueryParser(512 * 1024, 5);
        Set<String> expectDeadDocKeys = new HashSet<>();
        Map<String, String> expectInMilvus = new LinkedHashMap<>(); // doc_id -> its last op
        Set<String> expectAnswered = new HashSet<>();
        int expectDeadQueries = 0;
        int bigDocuments = 0;

        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            // Restarts allowed, for infrastructure only: a loaded machine's Milvus may time out a call
            // at start. The exception history proves no record ever failed the job.
            JobClient job = test.start("--restart-strategy.type", "fixed-delay", "--restart-strategy.fixed-delay.attempts", "20",
                    "--restart-strategy.fixed-delay.delay", "1s");

            for (int i = 0; i < DOCUMENTS; i++) {
                JsonNode base = Json.mapper().readTree(corpus.get(i % corpus.size()));
                ((com.fasterxml.jackson.databind.node.ObjectNode) base).put("doc_id", "fz-" + i)
                        .put("text", base.get("text").asText().substring(0, Math.min(300, base.get("text").asText().length())));
                String valid = base.toString().replace("\":\"", "\": \"").replace("\",\"", "\", \"");
                byte[] value = mutate(valid);
                String key = "fz-key-" + i;
                try {
                    DocumentEvent e = value == null
                            ? docParser.parseTombstone(key.getBytes(StandardCharsets.UTF_8)) : docParser.parse(value);
                    if (e.text() != null && e.text().length() > 300_000) {
                        // Parses, but chunking dead-letters it (too_many_chunks), under its identity.
                        expectDeadDocKeys.add(e.tenant() + ":" + e.docId());
                        bigDocuments++;
                    } else {
                        expectInMilvus.put(e.docId(), e.op() == Op.DELETE ? "delete" : "upsert");
                    }
                } catch (InvalidInputException e) {
                    expectDeadDocKeys.add(key);
                }
                kafka.sendBytes(test.documents, key.getBytes(StandardCharsets.UTF_8), value);
            }
            for (int i = 0; i < QUERIES; i++) {
                String id = "fq-" + i;
                String valid = "{\"request_id\": \"" + id + "\", \"text\": \"how to open a file\", \"top_k\": 3, "
                        + "\"tenant\": \"default\", \"filter\": {\"kind\": [\"function\"]}}";
                byte[] value = mutate(valid);
                byte[] key = id.getBytes(StandardCharsets.UTF_8);
                try {
                    expectAnswered.add(queryParser.parse(key, value).requestId());
                } catch (InvalidInputException e) {
                    expectDeadQueries++;
                    if (e.requestId() != null) {
                        expectAnswered.add(e.requestId());
                    }
                }
                kafka.sendBytes(test.queries, key, value);
            }
            assertThat(expectDeadDocKeys.size()).as("mutations that break documents").isBetween(DOCUMENTS / 3, DOCUMENTS - 100);
            assertThat(bigDocuments).as("documents that chunk past the cap").isPositive();

            int expectedDead = expectDeadDocKeys.size() + expectDeadQueries;
            List<ConsumerRecord<String, String>> dead = kafka.readUntil(test.deadLetters, rs -> {
                JobDiagnosis.requireRunning(job);
                return rs.stream().map(ConsumerRecord::key).distinct().count() >= expectedDead;
            }, WAIT);
            Set<String> deadDocKeys = dead.stream().filter(r -> r.value().contains("\"source_topic\":\"" + test.documents + "\""))
                    .map(ConsumerRecord::key).collect(Collectors.toSet());
            assertThat(deadDocKeys).as(() -> deadDocKeys.size() + " of " + expectDeadDocKeys.size() + " document dead letters ("
                    + dead.size() + " of " + expectedDead + " in all) within " + WAIT + "; " + JobDiagnosis.of(job))
                    .isEqualTo(expectDeadDocKeys);
            // Once each; a restart (infrastructure only, below) may replay some at least once.
            assertThat(dead.stream().map(ConsumerRecord::key).distinct().count()).isEqualTo(expectedDead);
            for (ConsumerRecord<String, String> r : dead) {
                assertThat(Json.parse(r.value()).get("error").get("message").asText()).isNotBlank();
                assertThat(r.serializedValueSize()).as("a dead letter fits its budget").isLessThan(80 * 1024);
            }

            List<ConsumerRecord<String, String>> answers = kafka.readUntil(test.responses,
                    rs -> {
                        JobDiagnosis.requireRunning(job);
                        return rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(expectAnswered);
                    }, WAIT);
            Map<String, Long> perId = answers.stream().collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.counting()));
            assertThat(perId.keySet()).containsAll(expectAnswered);

            List<String> upserted = expectInMilvus.entrySet().stream().filter(e -> e.getValue().equals("upsert"))
                    .map(Map.Entry::getKey).toList();
            awaitInMilvus(milvus, upserted, job);
            assertThat(job.getJobStatus().get()).isEqualTo(JobStatus.RUNNING);
            assertThat(JobDiagnosis.recordFailures(cluster.getRestAddress().get(), job)).isEmpty();
            job.cancel().get();
        }
    }

    private static void awaitInMilvus(MilvusStore milvus, List<String> docIds, JobClient job) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Set<String> missing = new HashSet<>(docIds);
        while (System.nanoTime() < deadline && !missing.isEmpty()) {
            try {
                for (Map<String, Object> r : milvus.query("chunk_index == 0", List.of("doc_id"))) {
                    missing.remove((String) r.get("doc_id"));
                }
            } catch (RuntimeException e) {
                // no collection before the first write
            }
            if (!missing.isEmpty()) {
                JobDiagnosis.requireRunning(job);
                Thread.sleep(500);
            }
        }
        assertThat(missing).as(() -> missing.size() + " valid documents missing from Milvus; " + JobDiagnosis.of(job)).isEmpty();
    }
}
