package dev.embedstream.jobs;

import dev.embedstream.jobs.io.KafkaIO;
import dev.embedstream.jobs.metrics.LoopbackPrometheusReporterFactory;
import java.nio.file.Path;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job in an in-process Flink MiniCluster with its web UI and Prometheus reporter, for
 * {@code scripts/run-local.sh}. Takes the job's options plus {@code local.web-port} and
 * {@code local.prometheus-port}. Checkpoints go to files under {@code local.checkpoint-dir}: Flink's
 * default without a checkpoint directory keeps them in JobManager memory, limited to 5 MB, and
 * the query dedup state outgrows that within minutes at a few hundred queries per second (each
 * failed checkpoint would then restart the job).
 *
 * <p>Every socket the MiniCluster listens on is bound to {@link #LOOPBACK}: the web UI and REST
 * API (which can cancel the job and, unless disabled, run uploaded jars), the blob server, the
 * TaskManager's data port and the metrics. Flink's own Prometheus reporter cannot bind a host (it
 * serves on every interface), so the local run uses {@link LoopbackPrometheusReporterFactory}.
 * {@code LocalRunnerListensOnLoopbackOnlyTest} checks the sockets of a running MiniCluster.
 */
public final class LocalRunner {

    /** The only address the local run listens on. */
    static final String LOOPBACK = "127.0.0.1";

    static final ConfigOption<Integer> WEB_PORT = ConfigOptions.key("local.web-port").intType().defaultValue(8081)
            .withDescription("Web UI / REST port of the local MiniCluster.");
    static final ConfigOption<Integer> PROMETHEUS_PORT = ConfigOptions.key("local.prometheus-port").intType()
            .defaultValue(9249).withDescription("Port of the Prometheus reporter of the local MiniCluster.");
    static final ConfigOption<String> CHECKPOINT_DIR = ConfigOptions.key("local.checkpoint-dir").stringType()
            .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "embedstream-checkpoints").toString())
            .withDescription("Directory of the local run's checkpoints.");

    private LocalRunner() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = localConfiguration(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
        env.execute("embedstream");
    }

    /** The job's options from {@code args} plus the MiniCluster's: loopback only, file checkpoints. */
    static Configuration localConfiguration(String[] args) {
        Configuration conf = JobConfig.fromArgs(args);
        // Set, not defaulted: a command line cannot widen what the local run exposes.
        conf.set(RestOptions.BIND_ADDRESS, LOOPBACK);
        conf.set(RestOptions.ADDRESS, LOOPBACK);
        conf.set(RestOptions.PORT, conf.get(WEB_PORT));
        // The blob server binds jobmanager.bind-host (the wildcard when unset), the TaskManager's
        // netty data port binds taskmanager.bind-host.
        conf.set(JobManagerOptions.ADDRESS, LOOPBACK);
        conf.set(JobManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(TaskManagerOptions.HOST, LOOPBACK);
        conf.set(TaskManagerOptions.BIND_HOST, LOOPBACK);
        conf.setString("metrics.reporter.prom.factory.class", LoopbackPrometheusReporterFactory.class.getName());
        conf.setString("metrics.reporter.prom." + LoopbackPrometheusReporterFactory.HOST, LOOPBACK);
        conf.setString("metrics.reporter.prom." + LoopbackPrometheusReporterFactory.PORT,
                String.valueOf(conf.get(PROMETHEUS_PORT)));
        if (!conf.contains(CheckpointingOptions.CHECKPOINTS_DIRECTORY)) {
            conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Path.of(conf.get(CHECKPOINT_DIR)).toUri().toString());
        }
        if (!conf.containsKey("parallelism.default")) {
            conf.setString("parallelism.default", "2");
        }
        return conf;
    }
}
