package dev.embedstream.jobs;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * A local run configured as LocalRunner configures it, for the tests of LocalRunner: web UI and
 * metrics on free ports, checkpoints under the test's directory, and whatever else the test passes.
 */
record LocalRun(int webPort, int metricsPort, Configuration conf) {

    /** How long a MiniCluster may take to run a job or to serve its routes and metrics. */
    static final Duration WAIT = Duration.ofSeconds(90);
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    static LocalRun under(Path dir, String... more) throws IOException {
        int webPort = PrometheusServer.freePort();
        int metricsPort = PrometheusServer.freePort();
        List<String> args = new ArrayList<>(List.of(
                "--local.web-port", String.valueOf(webPort),
                "--local.prometheus-port", String.valueOf(metricsPort),
                "--local.checkpoint-dir", dir.resolve("checkpoints").toString()));
        args.addAll(List.of(more));
        return new LocalRun(webPort, metricsPort, LocalRunner.localConfiguration(args.toArray(String[]::new)));
    }

    /** The REST address of its web UI. */
    String rest() {
        return "http://127.0.0.1:" + webPort;
    }

    StreamExecutionEnvironment environment() {
        return StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
    }
}
