package dev.embedstream.jobs;

import dev.embedstream.jobs.io.KafkaIO;
import dev.embedstream.jobs.settings.Role;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The job as submitted to a Flink cluster: {@code flink run embedstream-job.jar --key value ...}. */
public final class EmbedstreamJob {

    private EmbedstreamJob() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = JobConfig.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobSettings settings = JobSettings.from(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), settings);
        env.execute(jobName(settings));
    }

    /** {@code embedstream}, or {@code embedstream-backfill-<model>} for a migration's backfill job. */
    public static String jobName(JobSettings settings) {
        return settings.role() == Role.BACKFILL ? "embedstream-backfill-" + settings.model().name() : "embedstream";
    }
}
