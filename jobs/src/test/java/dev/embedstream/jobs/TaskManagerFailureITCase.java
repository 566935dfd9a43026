package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
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
 * Kills a TaskManager three times while documents are being embedded and written: afterwards
 * Milvus holds exactly the expected chunks (none missing, none extra) and every query sent during
 * the failures has an answer.
 */
class TaskManagerFailureITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(2).setNumberSlotsPerTaskManager(1).build());

    private static final Duration WAIT = Duration.ofSeconds(240);

    @Test
    void everyDocumentLandsExactlyOnceWhenATaskManagerDiesMidBatch(@InjectMiniCluster MiniCluster cluster) throws Exception {
        TestJob test = new TestJob("tmf");
        List<JsonNode> batch = TestJob.corpus().subList(0, 240);
        Set<String> expected = TestJob.expectedChunkIds(batch);

        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--checkpoint.interval", "1s",
                    "--restart-strategy.type", "fixed-delay",
                    "--restart-strategy.fixed-delay.attempts", "20",
                    "--restart-strategy.fixed-delay.delay", "1s");

            List<String> asked = new ArrayList<>();
            for (int wave = 0; wave < 3; wave++) {
                for (JsonNode d : batch.subList(wave * 80, wave * 80 + 80)) {
                    kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
                }
                String id = "during-failure-" + wave;
                asked.add(id);
                kafka.send(test.queries, id, "{\"request_id\":\"" + id + "\",\"text\":\"open a file\"}");
                // Let the wave reach the model, then kill the TaskManager running subtask work.
                if (wave == 0) {
                    TestJob.awaitTrue(() -> TestJob.count(milvus) > 0, Duration.ofSeconds(90));
                }
                Thread.sleep(1_500);
                cluster.terminateTaskManager(0).get();
                cluster.startTaskManager();
            }

            TestJob.awaitTrue(() -> TestJob.count(milvus) >= expected.size(), WAIT);
            Thread.sleep(3_000); // let any replayed write land before counting
            List<Map<String, Object>> rows = milvus.query("chunk_index >= 0", List.of("chunk_id"));
            List<String> ids = rows.stream().map(r -> (String) r.get("chunk_id")).toList();
            assertThat(ids).doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).isEqualTo(expected);

            Set<String> answered = kafka.readUntil(test.responses,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked), WAIT)
                    .stream().map(ConsumerRecord::key).collect(Collectors.toSet());
            assertThat(answered).containsAll(asked);
            assertThat(job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            assertThat(cluster.getExecutionGraph(job.getJobID()).get().getStatusTimestamp(JobStatus.RESTARTING))
                    .as("the job went through a restart").isPositive();
            job.cancel().get();
        }
    }
}
