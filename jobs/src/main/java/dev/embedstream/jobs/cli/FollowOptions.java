package dev.embedstream.jobs.cli;

import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How migrate follows the backfill job it started (a picocli mixin): whether it waits at all, how
 * long and how often it reads the progress, and the deadline of each call that reads it.
 */
final class FollowOptions {

    @Option(names = "--detach", description = "Start (or find) the backfill job and return at once.")
    boolean detach;

    @Option(names = "--catch-up-timeout", paramLabel = "DURATION", defaultValue = "10m",
            description = "Longest wait for the backfill to catch up (default: ${DEFAULT-VALUE}).")
    Duration catchUpTimeout;

    @Option(names = "--rest-timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "Deadline of each Flink REST and Kafka admin call (default: ${DEFAULT-VALUE}).")
    Duration restTimeout;

    @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "1s",
            description = "How often progress is read (default: ${DEFAULT-VALUE}).")
    Duration poll;
}
