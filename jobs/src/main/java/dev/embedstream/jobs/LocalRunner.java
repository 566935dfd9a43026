package dev.embedstream.jobs;

import dev.embedstream.jobs.io.KafkaIO;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job in an in-process Flink MiniCluster with its web UI and Prometheus reporter, for
 * {@code scripts/run-local.sh}. Takes the job's options plus {@code local.web-port} and
 * {@code local.prometheus-port}.
 */
public final class LocalRunner {

    static final ConfigOption<Integer> WEB_PORT = ConfigOptions.key("local.web-port").intType().defaultValue(8081)
            .withDescription("Web UI / REST port of the local MiniCluster.");
    static final ConfigOption<Integer> PROMETHEUS_PORT = ConfigOptions.key("local.prometheus-port").intType()
            .defaultValue(9249).withDescription("Port of the Prometheus reporter of the local MiniCluster.");

    private LocalRunner() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = JobConfig.fromArgs(args);
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, conf.get(WEB_PORT));
        conf.setString("metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", String.valueOf(conf.get(PROMETHEUS_PORT)));
        if (!conf.containsKey("parallelism.default")) {
            conf.setString("parallelism.default", "2");
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
        env.execute("embedstream");
    }
}
