package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.io.KafkaIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kills a TaskManager three times while documents are being embedded and written: afterwards
 * Milvus holds exactly the expected chunks (none missing, none extra) and every query sent during
 * the failures has an answer.
 */
class TaskManagerFailureTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(1).build());

    private static final Duration WAIT = Duration.ofSeconds(240);

    @Test
    void everyDocumentLandsExactlyOnceWhenATaskManagerDiesMidBatch(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String docs = "tmf-docs-" + run;
        String queries = "tmf-queries-" + run;
        String responses = "tmf-responses-" + run;
        String collection = "tmf_" + run;
        List<JsonNode> corpus = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("..", "scripts", "sample", "corpus.jsonl"))) {
            corpus.add(Json.mapper().readTree(line));
        }
        List<JsonNode> batch = corpus.subList(0, 240);

        // What Milvus must hold: every chunk id of every document, computed with the same chunker.
        Set<String> expected = new HashSet<>();
        try (TextChunker chunker = new TextChunker(TestServers.defaultModel(), 256, 32)) {
            for (JsonNode d : batch) {
                int n = chunker.chunk(d.get("text").asText()).size();
                for (int i = 0; i < n; i++) {
                    expected.add(ChunkRow.chunkId(d.get("doc_id").asText(), i));
                }
            }
        }

        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, collection, 10_000, 10_000))) {
            kafka.createTopics(2, docs, queries, responses, "tmf-dlq-" + run);
            Configuration conf = JobConfig.fromArgs(new String[] {
                "--kafka.bootstrap-servers", TestServers.kafkaBootstrap(), "--kafka.group-id", "tmf-" + run,
                "--topic.documents", docs, "--topic.queries", queries, "--topic.responses", responses,
                "--topic.dlq", "tmf-dlq-" + run,
                "--milvus.uri", TestServers.milvusUri(), "--milvus.collection", collection,
                "--model.cache-dir", TestServers.modelCache().toString(),
                "--checkpoint.interval", "1s",
                "--restart-strategy.type", "fixed-delay",
                "--restart-strategy.fixed-delay.attempts", "20",
                "--restart-strategy.fixed-delay.delay", "1s",
            });
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
            env.setParallelism(2);
            Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
            JobClient job = env.executeAsync("tm-failure");

            List<String> asked = new ArrayList<>();
            for (int wave = 0; wave < 3; wave++) {
                for (JsonNode d : batch.subList(wave * 80, wave * 80 + 80)) {
                    kafka.send(docs, d.get("doc_id").asText(), d.toString());
                }
                String id = "during-failure-" + wave;
                asked.add(id);
                kafka.send(queries, id, "{\"request_id\":\"" + id + "\",\"text\":\"open a file\"}");
                // Let the wave reach the model, then kill the TaskManager running subtask work.
                if (wave == 0) {
                    awaitTrue(() -> count(milvus) > 0, Duration.ofSeconds(90));
                }
                Thread.sleep(1_500);
                cluster.terminateTaskManager(0).get();
                cluster.startTaskManager();
            }

            awaitTrue(() -> count(milvus) >= expected.size(), WAIT);
            Thread.sleep(3_000); // let any replayed write land before counting
            List<Map<String, Object>> rows = milvus.query("chunk_index >= 0", List.of("chunk_id"));
            List<String> ids = rows.stream().map(r -> (String) r.get("chunk_id")).toList();
            assertThat(ids).doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).isEqualTo(expected);

            Set<String> answered = kafka.readUntil(responses,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked), WAIT)
                    .stream().map(ConsumerRecord::key).collect(Collectors.toSet());
            assertThat(answered).containsAll(asked);
            assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            assertThat(cluster.getExecutionGraph(job.getJobID()).get().getStatusTimestamp(JobStatus.RESTARTING))
                    .as("the job went through a restart").isPositive();
            job.cancel().get();
        }
    }

    private static long count(MilvusStore milvus) {
        try {
            return milvus.count("chunk_index >= 0");
        } catch (RuntimeException e) {
            return 0; // no collection before the first write
        }
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out after " + timeout);
    }
}
