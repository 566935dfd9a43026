package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.ServerControl;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.io.KafkaIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stops the Milvus server for 30 s while documents and queries keep coming: queries during the
 * outage are answered {@code error} within their budget, and once Milvus is back every document
 * is there exactly once.
 */
class MilvusOutageTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void nothingIsLostAndQueriesGetErrorsWhileMilvusIsDown() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String docs = "mo-docs-" + run;
        String queries = "mo-queries-" + run;
        String responses = "mo-responses-" + run;
        String collection = "mo_" + run;
        List<JsonNode> corpus = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("..", "scripts", "sample", "corpus.jsonl")).subList(400, 520)) {
            corpus.add(Json.mapper().readTree(line));
        }
        Set<String> expected = new HashSet<>();
        try (TextChunker chunker = new TextChunker(TestServers.defaultModel(), 256, 32)) {
            for (JsonNode d : corpus) {
                for (int i = 0; i < chunker.chunk(d.get("text").asText()).size(); i++) {
                    expected.add(ChunkRow.chunkId(d.get("doc_id").asText(), i));
                }
            }
        }
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, collection, 5_000, 5_000))) {
            kafka.createTopics(2, docs, queries, responses, "mo-dlq-" + run);
            Configuration conf = JobConfig.fromArgs(new String[] {
                "--kafka.bootstrap-servers", TestServers.kafkaBootstrap(), "--kafka.group-id", "mo-" + run,
                "--topic.documents", docs, "--topic.queries", queries, "--topic.responses", responses,
                "--topic.dlq", "mo-dlq-" + run,
                "--milvus.uri", TestServers.milvusUri(), "--milvus.collection", collection,
                "--milvus.rpc-timeout", "3s", "--query.search-timeout", "3s",
                "--model.cache-dir", TestServers.modelCache().toString(),
                "--checkpoint.interval", "2s",
                "--restart-strategy.type", "fixed-delay",
                "--restart-strategy.fixed-delay.attempts", "20",
                "--restart-strategy.fixed-delay.delay", "2s",
            });
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(2);
            Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
            JobClient job = env.executeAsync("milvus-outage");

            for (JsonNode d : corpus.subList(0, 60)) {
                kafka.send(docs, d.get("doc_id").asText(), d.toString());
            }
            awaitTrue(() -> count(milvus) > 0);

            ServerControl.stopMilvus();
            Map<String, Long> sentAt = new HashMap<>();
            try {
                for (JsonNode d : corpus.subList(60, corpus.size())) {
                    kafka.send(docs, d.get("doc_id").asText(), d.toString());
                }
                for (int i = 0; i < 5; i++) {
                    String id = "outage-" + i;
                    sentAt.put(id, System.currentTimeMillis());
                    kafka.send(queries, id, "{\"request_id\":\"" + id + "\",\"text\":\"read a file\"}");
                    Thread.sleep(2_000);
                }
                List<ConsumerRecord<String, String>> during = kafka.readUntil(responses,
                        rs -> rs.stream().map(ConsumerRecord::key).collect(java.util.stream.Collectors.toSet())
                                .containsAll(sentAt.keySet()), OUTAGE);
                Map<String, JsonNode> answers = new HashMap<>();
                for (ConsumerRecord<String, String> r : during) {
                    answers.putIfAbsent(r.key(), Json.parse(r.value()));
                    assertThat(r.timestamp() - sentAt.get(r.key())).as("answer time of %s", r.key()).isLessThan(15_000);
                }
                assertThat(answers.keySet()).containsAll(sentAt.keySet());
                answers.values().forEach(a -> assertThat(a.get("status").asText()).isEqualTo("error"));
                Thread.sleep(Math.max(0, OUTAGE.toMillis() - 15_000));
            } finally {
                ServerControl.startMilvus();
            }

            awaitTrue(() -> count(milvus) >= expected.size());
            Thread.sleep(3_000);
            List<String> ids = milvus.query("chunk_index >= 0", List.of("chunk_id")).stream()
                    .map(r -> (String) r.get("chunk_id")).toList();
            assertThat(ids).doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).isEqualTo(expected);

            kafka.send(queries, "after", "{\"request_id\":\"after\",\"text\":\"read a file\"}");
            List<ConsumerRecord<String, String>> after = kafka.readUntil(responses,
                    rs -> rs.stream().anyMatch(r -> r.key().equals("after")), WAIT);
            JsonNode answer = Json.parse(after.stream().filter(r -> r.key().equals("after")).findFirst().orElseThrow().value());
            assertThat(answer.get("status").asText()).isEqualTo("ok");
            job.cancel().get();
        }
    }

    private static long count(MilvusStore milvus) {
        try {
            return milvus.count("chunk_index >= 0");
        } catch (RuntimeException e) {
            // no collection yet, or a restarted Milvus that has not loaded it
            try {
                milvus.openIfExists();
            } catch (RuntimeException ignored) {
                // Milvus is down
            }
            return 0;
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("timed out after " + WAIT);
    }
}
