package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.runtime.minicluster.MiniCluster;
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
    static final MiniClusterExtension FLINK = RecoveringJob.miniCluster(2, 1);

    private static final Duration WAIT = Duration.ofSeconds(240);

    @Test
    void everyDocumentLandsExactlyOnceWhenATaskManagerDiesMidBatch(@InjectMiniCluster MiniCluster cluster) throws Exception {
        List<JsonNode> batch = TestJob.corpus().subList(0, 240);
        try (RecoveringJob run = RecoveringJob.start("tmf", batch, "1s", 20)) {
            List<String> asked = new ArrayList<>();
            for (int wave = 0; wave < 3; wave++) {
                run.send(batch.subList(wave * 80, wave * 80 + 80));
                String id = "during-failure-" + wave;
                asked.add(id);
                run.ask(id, "open a file");
                // Let the wave reach the model, then kill the TaskManager running subtask work.
                if (wave == 0) {
                    run.awaitFirstRows(Duration.ofSeconds(90));
                }
                Thread.sleep(1_500);
                cluster.terminateTaskManager(0).get();
                cluster.startTaskManager();
            }

            run.assertEveryChunkExactlyOnce(WAIT);

            Set<String> answered = run.kafka.readUntil(run.test.responses,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked), WAIT)
                    .stream().map(ConsumerRecord::key).collect(Collectors.toSet());
            assertThat(answered).containsAll(asked);
            assertThat(run.job.getJobStatus().get().isGloballyTerminalState()).isFalse();
            assertThat(cluster.getExecutionGraph(run.job.getJobID()).get().getStatusTimestamp(JobStatus.RESTARTING))
                    .as("the job went through a restart").isPositive();
        }
    }
}
