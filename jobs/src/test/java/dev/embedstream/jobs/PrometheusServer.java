package dev.embedstream.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (the binary scripts/test.sh installs) on a free port of 127.0.0.1,
 * scraping one target every second and evaluating the shipped alert rules every second.
 */
final class PrometheusServer implements AutoCloseable {

    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

    final String url;
    final Path log;
    private final Process process;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CALL_TIMEOUT).build();

    /** Scrapes {@code target} (host:port) as job {@code scrapeJob}, with {@code rules} as rule file. */
    PrometheusServer(String binary, Path dir, String scrapeJob, String target, Path rules) throws IOException {
        int port = freePort();
        url = "http://127.0.0.1:" + port;
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, String.join("\n",
                "global:",
                "  scrape_interval: 1s",
                "  scrape_timeout: 1s",
                "  evaluation_interval: 1s",
                "rule_files:",
                "  - " + Json.write(rules.toAbsolutePath().normalize().toString()),
                "scrape_configs:",
                "  - job_name: " + Json.write(scrapeJob),
                "    static_configs:",
                "      - targets: [" + Json.write(target) + "]",
                ""));
        log = dir.resolve("prometheus.log");
        process = new ProcessBuilder(binary, "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until the server answers /-/ready; fails early when it exited (a bad rule file does that). */
    void awaitReady(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(url + "/-/ready")).timeout(CALL_TIMEOUT).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(250);
        }
        throw new AssertionError("prometheus not ready after " + timeout + ":\n" + Files.readString(log));
    }

    /** GET {@code /api/v1/<path>}: the {@code data} of a successful answer. */
    JsonNode api(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "/api/v1/" + path))
                .timeout(CALL_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode body = Json.mapper().readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new AssertionError("prometheus /api/v1/" + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return body.get("data");
    }

    /** An instant query's result vector. */
    JsonNode query(String promql) throws Exception {
        return api("query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).get("result");
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
