package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * A job that runs until it is cancelled and does next to nothing (a record a millisecond): what the
 * local-runner tests need running on a MiniCluster when only its slots, sockets and routes matter.
 */
final class EndlessJob {

    private EndlessJob() {}

    /** Adds the endless pipeline to {@code env}; the caller executes it. */
    static void define(StreamExecutionEnvironment env) {
        env.fromSequence(0, Long.MAX_VALUE).map(EndlessJob::slowly).sinkTo(new DiscardingSink<>());
    }

    /**
     * Submits it under {@code name} and returns once it is RUNNING; the caller cancels it. When it
     * is not RUNNING within {@code wait}, it is cancelled here and the assertion error thrown.
     */
    static JobClient startRunning(StreamExecutionEnvironment env, String name, Duration wait) throws Exception {
        define(env);
        JobClient job = env.executeAsync(name);
        try {
            awaitRunning(job, wait);
        } catch (Exception | AssertionError e) {
            job.cancel().get(30, TimeUnit.SECONDS);
            throw e;
        }
        return job;
    }

    static void awaitRunning(JobClient job, Duration wait) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        while (job.getJobStatus().get(10, TimeUnit.SECONDS) != JobStatus.RUNNING) {
            assertThat(System.nanoTime()).as("job RUNNING within %s", wait).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static long slowly(long value) throws InterruptedException {
        Thread.sleep(1);
        return value;
    }
}
