package dev.embedstream.jobs.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where and how migrate starts the backfill job (a picocli mixin): the Flink cluster, the jar it
 * uploads, and the options of the job it runs besides those migrate derives itself.
 */
final class BackfillJobOptions {

    /** Redis of the local stack (scripts/run-local.sh); {@code none} runs the backfill without it. */
    static final String LOCAL_REDIS = "redis://127.0.0.1:6379";
    static final String LOCAL_FLINK = "http://127.0.0.1:8081";
    /** Where scripts/embedstream says the repository is (the default --jar is inside it). */
    static final String HOME_PROPERTY = "embedstream.home";
    static final String JOB_JAR = "jobs/target/embedstream-job.jar";

    @Option(names = "--flink", paramLabel = "URL", defaultValue = LOCAL_FLINK,
            description = "Flink REST address (default: ${DEFAULT-VALUE}, scripts/run-local.sh's cluster).")
    String flink;

    @Option(names = "--jar", paramLabel = "FILE",
            description = "The job jar to upload (default: " + JOB_JAR + " of this checkout).")
    Path jar;

    @Option(names = "--redis", paramLabel = "URI", defaultValue = LOCAL_REDIS,
            description = "Redis of the backfill job's embedding cache, or none (default: ${DEFAULT-VALUE}).")
    String redis;

    @Option(names = "--checkpoint-interval", paramLabel = "DURATION", defaultValue = "2s",
            description = "The backfill job's checkpoint.interval: how often it commits its progress (default:"
                    + " ${DEFAULT-VALUE}).")
    String checkpointInterval;

    @Option(names = "--job-arg", paramLabel = "KEY=VALUE",
            description = "Another option of the backfill job (repeatable), e.g. parallelism.default=1 or"
                    + " model.cache-dir=/data/models.")
    Map<String, String> jobArgs = new LinkedHashMap<>();

    /** The Redis URI for the job, or empty for {@code none} (or blank). */
    Optional<String> redisUri() {
        return redis == null || redis.isBlank() || "none".equalsIgnoreCase(redis) ? Optional.empty() : Optional.of(redis);
    }

    /** --jar, or the job jar of the checkout scripts/embedstream runs from; it must exist. */
    Path jobJar() {
        Path p = jar;
        if (p == null) {
            String home = System.getProperty(HOME_PROPERTY);
            p = home == null ? Path.of(JOB_JAR) : Path.of(home).resolve(JOB_JAR);
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("job jar " + p + " not found: build it (mvn -DskipTests package) or pass --jar");
        }
        return p;
    }
}
