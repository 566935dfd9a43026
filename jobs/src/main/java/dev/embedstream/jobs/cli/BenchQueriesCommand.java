package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Sends queries at a fixed rate, open loop (a slow answer never delays the next query), and
 * reports the latency a client sees: from just before the produce call to the moment its
 * response is consumed.
 */
@Command(name = "bench-queries", mixinStandardHelpOptions = true,
        description = "Measure query latency (produce -> response consumed) at a steady rate.")
final class BenchQueriesCommand implements Callable<Integer> {

    @ParentCommand
    EmbedstreamCli cli;

    @Option(names = "--rate", defaultValue = "20", description = "Queries per second (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--duration", defaultValue = "60s", description = "How long to send (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "5s", description = "Sent but not measured (default: ${DEFAULT-VALUE}).")
    Duration warmup;

    @Option(names = "--queries", required = true, description = "Text file, one query per line; cycled through.")
    Path queries;

    @Option(names = "--top-k", defaultValue = "5")
    int topK;

    @Option(names = "--out", description = "Also write the results as JSON to this file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        List<String> texts = Files.readAllLines(queries, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        Map<String, Long> latencyNanos = new ConcurrentHashMap<>();
        Map<String, String> status = new ConcurrentHashMap<>();
        String run = UUID.randomUUID().toString().substring(0, 8);
        long intervalNanos = (long) (1e9 / rate);
        long total = (long) ((duration.toNanos() + warmup.toNanos()) / (double) intervalNanos);
        long warmupCount = (long) (warmup.toNanos() / (double) intervalNanos);
        Properties props = cli.kafkaProps();
        props.put("linger.ms", "0");
        try (ResponseReader reader = new ResponseReader(props, cli.responsesTopic);
                DocumentPublisher publisher = new DocumentPublisher(props)) {
            Thread consumer = new Thread(() -> reader.forEach((key, value) -> {
                Long sent = sentAt.get(key);
                if (sent != null && latencyNanos.putIfAbsent(key, System.nanoTime() - sent) == null) {
                    status.put(key, Json.read(value, Map.class).get("status").toString());
                }
            }, () -> latencyNanos.size() >= total, duration.plus(warmup).plusSeconds(30)));
            consumer.start();
            long start = System.nanoTime();
            for (long i = 0; i < total; i++) {
                long due = start + i * intervalNanos;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                String id = "bench-" + run + "-" + i;
                ObjectNode q = Json.mapper().createObjectNode().put("request_id", id)
                        .put("text", texts.get((int) (i % texts.size()))).put("top_k", topK);
                sentAt.put(id, System.nanoTime());
                publisher.send(cli.queriesTopic, id, q.toString(), null);
            }
            consumer.join();
            double achieved = total / ((System.nanoTime() - start) / 1e9);
            List<Long> measured = new ArrayList<>();
            long errors = 0;
            for (long i = warmupCount; i < total; i++) {
                String id = "bench-" + run + "-" + i;
                Long l = latencyNanos.get(id);
                if (l != null) {
                    measured.add(l);
                    if (!"ok".equals(status.get(id))) {
                        errors++;
                    }
                }
            }
            long[] sorted = measured.stream().mapToLong(Long::longValue).sorted().toArray();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("rate_target_qps", rate);
            result.put("rate_sent_qps", Math.round(achieved * 10) / 10.0);
            result.put("measured", sorted.length);
            result.put("unanswered", (total - warmupCount) - sorted.length);
            result.put("not_ok", errors);
            result.put("p50_ms", percentile(sorted, 50));
            result.put("p95_ms", percentile(sorted, 95));
            result.put("p99_ms", percentile(sorted, 99));
            result.put("max_ms", sorted.length == 0 ? null : sorted[sorted.length - 1] / 1e6);
            String json = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(result);
            System.out.println(json);
            if (out != null) {
                Files.writeString(out, json);
            }
            return sorted.length == total - warmupCount && errors == 0 ? 0 : 1;
        }
    }

    static Double percentile(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return null;
        }
        int idx = (int) Math.ceil(p / 100.0 * sortedNanos.length) - 1;
        return Math.round(sortedNanos[Math.max(0, Math.min(idx, sortedNanos.length - 1))] / 1e4) / 100.0;
    }
}
