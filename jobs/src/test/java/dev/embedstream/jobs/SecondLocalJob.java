package dev.embedstream.jobs;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The main class of the jar that LocalRunnerRunsAnUploadedSecondJobTest uploads: an endless job
 * that stands in for a migration's backfill job (only its slots and its way in matter there).
 */
public final class SecondLocalJob {

    private SecondLocalJob() {}

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        EndlessJob.define(env);
        env.execute("second-local-job");
    }
}
