package dev.embedstream.jobs;

import dev.embedstream.common.EmbedstreamOptions;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.util.ParameterTool;

/** Reads {@code --key value} arguments over the cluster's configuration and applies job defaults. */
public final class JobConfig {

    /** Short enough that a query is not held back by a half-empty network buffer. */
    public static final Duration DEFAULT_BUFFER_TIMEOUT = Duration.ofMillis(5);

    private JobConfig() {}

    public static Configuration fromArgs(String[] args) {
        Configuration conf = ParameterTool.fromArgs(args).getConfiguration();
        if (!conf.contains(ExecutionOptions.BUFFER_TIMEOUT)) {
            conf.set(ExecutionOptions.BUFFER_TIMEOUT, DEFAULT_BUFFER_TIMEOUT);
        }
        if (!conf.contains(CheckpointingOptions.CHECKPOINTING_INTERVAL)) {
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, conf.get(EmbedstreamOptions.CHECKPOINT_INTERVAL));
        }
        if (!conf.contains(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE)) {
            // Sinks are at-least-once (idempotent upserts, responses deduplicated by request id):
            // unaligned-free at-least-once barriers keep query latency low during checkpoints.
            conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.AT_LEAST_ONCE);
        }
        return conf;
    }
}
