package dev.embedstream.jobs;

import dev.embedstream.jobs.io.KafkaIO;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** The job as submitted to a Flink cluster: {@code flink run embedstream-job.jar --key value ...}. */
public final class EmbedstreamJob {

    private EmbedstreamJob() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = JobConfig.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
        env.execute("embedstream");
    }
}
