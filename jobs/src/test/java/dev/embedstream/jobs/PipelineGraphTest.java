package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.jobs.io.KafkaIO;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/** The job graph as Pipeline.define builds it; nothing is run. */
class PipelineGraphTest {

    private static StreamGraph graph() {
        Configuration conf = JobConfig.fromArgs(new String[] {"--kafka.bootstrap-servers", "127.0.0.1:1"});
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), TestSettings.with());
        return env.getStreamGraph();
    }

    @Test
    void everyOperatorHasAStableUidSoSavepointsMapAcrossVersions() {
        for (StreamNode node : graph().getStreamNodes()) {
            assertThat(node.getTransformationUID()).as("uid of %s", node.getOperatorName()).isNotBlank();
        }
    }

    @Test
    void everyOperatorHasAnExplicitMaxParallelismSoKeyedStateRescalesFromSavepoints() {
        for (StreamNode node : graph().getStreamNodes()) {
            assertThat(node.getMaxParallelism()).as("max parallelism of %s", node.getOperatorName()).isEqualTo(128);
        }
    }

    @Test
    void checkpointingIsOnByDefault() {
        Configuration conf = JobConfig.fromArgs(new String[0]);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        assertThat(env.getCheckpointConfig().isCheckpointingEnabled()).isTrue();
        assertThat(env.getBufferTimeout()).isEqualTo(JobConfig.DEFAULT_BUFFER_TIMEOUT.toMillis());
    }
}
