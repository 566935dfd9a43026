package dev.embedstream.jobs.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Reads the job's {@code dedupDropped} counter from its Prometheus endpoint (summed over
 * subtasks): the only sign that a re-ingest of unchanged documents is done, as none of them
 * reaches Milvus.
 */
final class DedupCounter {

    static final String METRIC = "_embedstream_dedupDropped";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private DedupCounter() {
    }

    /** The counter's sum over every series in one scrape of {@code url}. */
    static double read(String url) throws IOException, InterruptedException {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build();
        String body = HTTP.send(req, HttpResponse.BodyHandlers.ofString()).body();
        return sum(body);
    }

    /** Sum of the values of every {@code ..._embedstream_dedupDropped} sample in a Prometheus text page. */
    static double sum(String prometheusText) {
        double total = 0;
        for (String line : prometheusText.split("\n")) {
            if (line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            String name = brace < 0 ? line.split(" ")[0] : line.substring(0, brace);
            if (name.endsWith(METRIC)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    /** Polls every 50 ms until the sum reaches {@code target}; false on timeout. */
    static boolean awaitAtLeast(String url, double target, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (read(url) >= target) {
                return true;
            }
            Thread.sleep(50);
        }
        System.err.printf("timed out after %s waiting for dedupDropped to reach %.0f%n", timeout, target);
        return false;
    }
}
