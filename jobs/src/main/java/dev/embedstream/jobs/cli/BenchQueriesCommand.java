package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.Defaults;
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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Sends queries open loop (a slow answer never delays the next query) at a steady rate or in a
 * load shape ({@code --shape}: constant, ramp, burst, spike, wave between {@code --rate} and
 * {@code --peak}; see {@link LoadShape}), and reports how closely the sends followed the shape
 * (queries due and sent per second, send lag) and the latency a client sees: from just before the produce call to the moment its
 * response is consumed. Texts are cycled through in order, or drawn Zipf-distributed
 * ({@code --zipf s}: the text of rank r with probability proportional to 1/r^s, seeded) to
 * model a query log that repeats itself; latency is then also reported apart for cache hits
 * and misses (the response's {@code cache} field).
 */
@Command(name = "bench-queries", mixinStandardHelpOptions = true,
        description = "Measure query latency (produce -> response consumed) at a steady rate.")
final class BenchQueriesCommand implements Callable<Integer> {

    @ParentCommand
    EmbedstreamCli cli;

    @Mixin
    LoadOptions load;

    @Option(names = "--queries", required = true, description = "Text file, one query per line; cycled through.")
    Path queries;

    @Option(names = "--top-k", defaultValue = "" + Defaults.TOP_K)
    int topK;

    @Mixin
    JsonReport report;

    @Option(names = "--zipf", defaultValue = "0", paramLabel = "S",
            description = "Draw texts Zipf-distributed with exponent S (0 = cycle in order; default: ${DEFAULT-VALUE}).")
    double zipf;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the Zipf draw (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--tenant", defaultValue = Defaults.TENANT, description = "Tenant of every query (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Option(names = "--deadline", paramLabel = "DURATION",
            description = "Give each query deadline_ms = its send time + DURATION (e.g. 1s); answers consumed more than "
                    + "100 ms after it are counted as late. Default: none (the job's query.max-latency applies).")
    Duration deadline;

    /** How far past its deadline an answer may be consumed before it counts as late: Kafka's way out. */
    static final long LATE_GRACE_MS = 100;

    /** Inverse-CDF sampler of ranks 0..n-1 with P(r) proportional to 1/(r+1)^s. */
    static final class Zipf {
        private final double[] cumulative;
        private final java.util.SplittableRandom random;

        Zipf(int n, double s, long seed) {
            cumulative = new double[n];
            double sum = 0;
            for (int r = 0; r < n; r++) {
                sum += 1 / Math.pow(r + 1, s);
                cumulative[r] = sum;
            }
            for (int r = 0; r < n; r++) {
                cumulative[r] /= sum;
            }
            random = new java.util.SplittableRandom(seed);
        }

        int next() {
            int i = java.util.Arrays.binarySearch(cumulative, random.nextDouble());
            return Math.min(i >= 0 ? i : -i - 1, cumulative.length - 1);
        }
    }

    @Override
    public Integer call() throws Exception {
        List<String> texts = Files.readAllLines(queries, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        Map<String, Long> sentAt = new ConcurrentHashMap<>();
        Map<String, Long> latencyNanos = new ConcurrentHashMap<>();
        Map<String, String> status = new ConcurrentHashMap<>();
        Map<String, String> cache = new ConcurrentHashMap<>();
        Map<String, Long> tookMs = new ConcurrentHashMap<>();
        Map<String, Long> deadlineMs = new ConcurrentHashMap<>();
        Map<String, Integer> answers = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicLong late = new java.util.concurrent.atomic.AtomicLong();
        Zipf draw = zipf > 0 ? new Zipf(texts.size(), zipf, seed) : null;
        String run = UUID.randomUUID().toString().substring(0, 8);
        LoadShape.Plan plan = load.plan();
        Duration warmup = load.warmup;
        long[] due = plan.sendTimesNanos();
        long total = due.length;
        long warmupCount = java.util.Arrays.stream(due).filter(d -> d < warmup.toNanos()).count();
        long[] sentOffset = new long[due.length];
        Properties props = cli.kafkaProps();
        props.put("linger.ms", "0");
        try (ResponseReader reader = new ResponseReader(props, cli.responsesTopic);
                DocumentPublisher publisher = new DocumentPublisher(props)) {
            Thread consumer = new Thread(() -> reader.forEach((key, value) -> {
                Long sent = sentAt.get(key);
                if (sent != null) {
                    answers.merge(key, 1, Integer::sum);
                    Long dl = deadlineMs.get(key);
                    if (dl != null && System.currentTimeMillis() > dl + LATE_GRACE_MS) {
                        late.incrementAndGet();
                    }
                }
                if (sent != null && latencyNanos.putIfAbsent(key, System.nanoTime() - sent) == null) {
                    Map<?, ?> response = Json.read(value, Map.class);
                    status.put(key, terminal(response));
                    cache.put(key, String.valueOf(response.get("cache")));
                    if (response.get("took_ms") instanceof Number n) {
                        tookMs.put(key, n.longValue());
                    }
                }
            }, () -> latencyNanos.size() >= total, load.duration.plus(warmup).plusSeconds(30)));
            consumer.start();
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long wait = start + due[i] - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                String id = "bench-" + run + "-" + i;
                ObjectNode q = Json.mapper().createObjectNode().put("request_id", id)
                        .put("text", texts.get(draw != null ? draw.next() : (int) (i % texts.size()))).put("top_k", topK).put("tenant", tenant);
                if (deadline != null) {
                    long dl = System.currentTimeMillis() + deadline.toMillis();
                    q.put("deadline_ms", dl);
                    deadlineMs.put(id, dl);
                }
                long now = System.nanoTime();
                sentAt.put(id, now);
                sentOffset[i] = now - start;
                publisher.send(cli.queriesTopic, id, q.toString(), null);
            }
            consumer.join();
            double achieved = total / ((System.nanoTime() - start) / 1e9);
            double answeredPerSecond = latencyNanos.size() / ((System.nanoTime() - start) / 1e9);
            List<Long> measured = new ArrayList<>();
            List<Long> hits = new ArrayList<>();
            List<Long> misses = new ArrayList<>();
            List<Long> hitsTook = new ArrayList<>();
            long errors = 0;
            Map<String, Long> byStatus = new java.util.TreeMap<>();
            for (long i = warmupCount; i < total; i++) {
                String id = "bench-" + run + "-" + i;
                Long l = latencyNanos.get(id);
                if (l != null) {
                    measured.add(l);
                    byStatus.merge(status.get(id), 1L, Long::sum);
                    if (!"ok".equals(status.get(id))) {
                        errors++;
                    } else {
                        ("hit".equals(cache.get(id)) ? hits : misses).add(l);
                        if ("hit".equals(cache.get(id)) && tookMs.containsKey(id)) {
                            hitsTook.add(tookMs.get(id) * 1_000_000);
                        }
                    }
                }
            }
            long[] sorted = measured.stream().mapToLong(Long::longValue).sorted().toArray();
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("shape", plan.shape().name().toLowerCase(java.util.Locale.ROOT));
            result.put("rate_target_qps", plan.base());
            result.put("peak_qps", plan.shape() == LoadShape.CONSTANT ? plan.base() : plan.peak());
            result.put("offered", total - warmupCount);
            result.put("rate_sent_qps", Math.round(achieved * 10) / 10.0);
            result.put("measured", sorted.length);
            result.put("unanswered", (total - warmupCount) - sorted.length);
            result.put("not_ok", errors);
            result.put("p50_ms", percentile(sorted, 50));
            result.put("p95_ms", percentile(sorted, 95));
            result.put("p99_ms", percentile(sorted, 99));
            result.put("max_ms", sorted.length == 0 ? null : sorted[sorted.length - 1] / 1e6);
            result.put("answered_qps", Math.round(answeredPerSecond * 10) / 10.0);
            result.put("distinct_texts", texts.size());
            result.put("zipf_s", zipf);
            result.put("cache_hit_ratio", measured.isEmpty() ? null : Math.round(1000.0 * hits.size() / measured.size()) / 1000.0);
            result.put("hits", percentiles(hits));
            result.put("misses", percentiles(misses));
            // took_ms: Kafka timestamp of the query -> answer made in the job; the rest of a hit's
            // latency is the way out (reply cache, Kafka sink, broker, this consumer).
            result.put("hits_took_in_job", percentiles(hitsTook));
            result.put("tenant", tenant);
            result.put("deadline_ms", deadline == null ? null : deadline.toMillis());
            // ok, expired, or the error's code (overloaded, rate_limited, ...), after the warm-up
            result.put("by_status", byStatus);
            result.put("duplicates", answers.values().stream().mapToLong(n -> n - 1).sum());
            result.put("late", late.get());
            putRateAccuracy(result, plan, due, sentOffset, run, latencyNanos);
            report.publish(result);
            return sorted.length == total - warmupCount && errors == 0 ? 0 : 1;
        }
    }

    /**
     * Per second of the run: queries due by the plan, sent, and answered (by the second they were
     * sent in); the worst relative difference between due and sent after the warm-up; and how late
     * sends were against their due time (p99).
     */
    private static void putRateAccuracy(Map<String, Object> result, LoadShape.Plan plan, long[] due, long[] sentOffset,
            String run, Map<String, Long> latencyNanos) {
        int seconds = (int) Math.ceil(plan.warmup() + plan.duration());
        int[] sent = new int[seconds + 1];
        int[] answered = new int[seconds + 1];
        List<List<Long>> latencies = new ArrayList<>();
        for (int s = 0; s <= seconds; s++) {
            latencies.add(new ArrayList<>());
        }
        long[] lag = new long[due.length];
        for (int i = 0; i < due.length; i++) {
            int s = (int) Math.min(seconds, sentOffset[i] / 1_000_000_000L);
            sent[s]++;
            Long l = latencyNanos.get("bench-" + run + "-" + i);
            if (l != null) {
                answered[s]++;
                latencies.get(s).add(l);
            }
            lag[i] = Math.max(0, sentOffset[i] - due[i]);
        }
        List<Map<String, Object>> perSecond = new ArrayList<>();
        double worst = 0;
        for (int s = 0; s < seconds; s++) {
            double expected = plan.expectedInSecond(s);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("t", s);
            row.put("target", Math.round(expected * 10) / 10.0);
            row.put("sent", sent[s]);
            row.put("answered", answered[s]);
            row.put("p99_ms", percentile(latencies.get(s).stream().mapToLong(Long::longValue).sorted().toArray(), 99));
            perSecond.add(row);
            if (s >= Math.ceil(plan.warmup())) {
                worst = Math.max(worst, Math.abs(sent[s] - expected) / Math.max(expected, 1));
            }
        }
        java.util.Arrays.sort(lag);
        result.put("max_rate_error", Math.round(worst * 1000) / 1000.0);
        result.put("send_lag_p99_ms", percentile(lag, 99));
        result.put("per_second", perSecond);
    }

    /** The terminal status of an answer: ok, expired, or an error's code (overloaded, rate_limited, ...). */
    static String terminal(Map<?, ?> response) {
        String status = String.valueOf(response.get("status"));
        if ("error".equals(status) && response.get("error") instanceof Map<?, ?> error && error.get("code") != null) {
            return error.get("code").toString();
        }
        return status;
    }

    private static Map<String, Object> percentiles(List<Long> nanos) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", sorted.length);
        m.put("p50_ms", percentile(sorted, 50));
        m.put("p95_ms", percentile(sorted, 95));
        m.put("p99_ms", percentile(sorted, 99));
        return m;
    }

    static Double percentile(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return null;
        }
        int idx = (int) Math.ceil(p / 100.0 * sortedNanos.length) - 1;
        return Math.round(sortedNanos[Math.max(0, Math.min(idx, sortedNanos.length - 1))] / 1e4) / 100.0;
    }
}
