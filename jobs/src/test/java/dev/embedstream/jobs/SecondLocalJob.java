package dev.embedstream.jobs;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The main class of the jar that LocalRunnerRunsAnUploadedSecondJobTest uploads: an endless job
 * that stands in for a migration's backfill job (only its slots and its way in matter there).
 */
public final class SecondLocalJob {

    private SecondLocalJob() {}

    public static void main(String[] args) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE).map(SecondLocalJob::slowly).sinkTo(new DiscardingSink<>());
        env.execute("second-local-job");
    }

    private static long slowly(long value) throws InterruptedException {
        Thread.sleep(1);
        return value;
    }
}
