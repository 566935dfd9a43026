package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * Retrieval quality and latency per query mode, measured through Kafka like any producer: every
 * labelled query is sent once per mode (its own request id), open loop at {@code --rate} requests
 * per second, and the answers are scored against the labels (MRR@10, recall@10, nDCG@10). A query
 * goes out in all modes back to back, in an order that rotates from query to query, so no mode is
 * always the one that pays for a cold embedding or profits from a warm one. Latency is from just
 * before the produce call to the response record's timestamp (when the job answered), so the time
 * this client takes to poll does not count.
 *
 * <p>Quality is averaged over the queries answered {@code ok}; every other outcome is counted next
 * to it (errors by code, expired, unanswered within {@code --timeout} of the last send), never
 * folded into a score of 0. A mode the server cannot serve (every answer that came is
 * {@code mode_unsupported}) is reported as unsupported, with no figures.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Score retrieval per query mode on a labelled query set (MRR@10, recall@10, nDCG@10, p50/p99"
                + " latency), sending the queries through Kafka.",
            "Lines of the set: {\"text\": ..., \"relevant\": [\"doc_id\", ...], \"tenant\"?: ..., \"kind\"?: ...};"
                + " scripts/sample/eval-queries.jsonl is one for the sample corpus.",
            "Exit status 0 when every query was answered ok in every mode, 1 otherwise."})
final class EvalCommand implements Callable<Integer> {

    @ParentCommand
    EmbedstreamCli cli;

    @Option(names = "--queries", required = true, paramLabel = "FILE.jsonl", description = "The labelled query set.")
    Path queries;

    @Option(names = "--mode", split = ",", paramLabel = "MODE", converter = QueryMode.ModeConverter.class,
            defaultValue = "dense,hybrid,keyword", description = "Modes to compare, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> modes;

    @Option(names = "--fusion", paramLabel = "FUSION", converter = QueryMode.FusionConverter.class,
            description = "Fusion of the hybrid mode (repeatable: one hybrid row per fusion): rrf, rrf:K or weighted:D,W,"
                    + " e.g. --fusion rrf:60 --fusion weighted:0.7,0.3 (default: none sent, the job's).")
    List<ObjectNode> fusions = new ArrayList<>();

    @Option(names = "--rate", defaultValue = "20", description = "Requests per second, all modes together (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--tenant", description = "Send every query as this tenant (default: each line's own, else default).")
    String tenant;

    @Option(names = "--timeout", defaultValue = "30s",
            description = "How long after the last send to wait for the remaining answers (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Write eval.json and the charts eval-quality.png and eval-latency.png into DIR.")
    Path out;

    /** The modes to run, hybrid once per fusion, in the order given; refuses what cannot run. */
    List<QueryMode> variants() {
        if (!(rate > 0)) {
            throw new IllegalArgumentException("--rate must be above 0, got " + rate);
        }
        List<QueryMode> variants = new ArrayList<>();
        for (String mode : new LinkedHashSet<>(modes)) {
            if (mode.equals("hybrid") && !fusions.isEmpty()) {
                new LinkedHashSet<>(fusions).forEach(f -> variants.add(new QueryMode(mode, f)));
            } else {
                variants.add(new QueryMode(mode, null));
            }
        }
        if (!fusions.isEmpty() && !modes.contains("hybrid")) {
            throw new IllegalArgumentException("--fusion applies to the hybrid mode only; add hybrid to --mode");
        }
        return variants;
    }

    /** One answer as scored: its terminal status, the documents it ranked, and when the job made it. */
    record Answer(String status, List<String> docIds, boolean cacheHit, long latencyMs) {}

    /** A request on its way: which mode and query it is, and when it was sent (epoch ms). */
    record Sent(int variant, int query, long atMs) {}

    @Override
    public Integer call() throws Exception {
        List<QueryMode> variants = variants();
        List<EvalSet.Query> set = EvalSet.read(queries);
        String run = UUID.randomUUID().toString().substring(0, 8);
        int total = set.size() * variants.size();
        Map<String, Sent> sent = new ConcurrentHashMap<>();
        Map<String, Answer> answers = new ConcurrentHashMap<>();
        Properties props = cli.kafkaProps();
        props.put("linger.ms", "0");
        System.err.printf("eval %s: %d queries x %s = %d requests at %.1f/s (about %.0f s)%n", run, set.size(),
                variants.stream().map(QueryMode::label).toList(), total, rate, total / rate);
        AtomicLong giveUpAt = new AtomicLong(Long.MAX_VALUE); // set when the last query is out
        try (ResponseReader reader = new ResponseReader(props, cli.responsesTopic);
                DocumentPublisher publisher = new DocumentPublisher(props)) {
            Thread consumer = new Thread(() -> reader.forEachRecord(r -> record(r, sent, answers),
                    () -> answers.size() >= total || System.nanoTime() > giveUpAt.get(),
                    // A backstop only (giveUpAt ends it): sends that fall far behind schedule must not
                    // have their answers counted as unanswered.
                    Duration.ofNanos((long) (2 * total / rate * 1e9)).plus(timeout).plusMinutes(5)), "eval-responses");
            consumer.setDaemon(true); // a failed send must not leave the JVM waiting on it
            consumer.start();
            long start = System.nanoTime();
            for (int q = 0; q < set.size(); q++) {
                for (int j = 0; j < variants.size(); j++) {
                    int n = q * variants.size() + j;
                    long wait = start + (long) (n / rate * 1e9) - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    int v = (q + j) % variants.size(); // rotate which mode goes first
                    String id = "eval-" + run + "-m" + v + "-" + q;
                    sent.put(id, new Sent(v, q, System.currentTimeMillis()));
                    publisher.send(cli.queriesTopic, id, request(id, set.get(q), variants.get(v)).toString(), null);
                }
            }
            publisher.flush();
            giveUpAt.set(System.nanoTime() + timeout.toNanos());
            consumer.join();
        }
        List<ModeResult> results = new ArrayList<>();
        for (QueryMode v : variants) {
            results.add(new ModeResult(v.label()));
        }
        for (Map.Entry<String, Sent> e : sent.entrySet()) {
            Sent s = e.getValue();
            results.get(s.variant()).add(set.get(s.query()), answers.get(e.getKey()));
        }
        System.out.print(table(results, set.size()));
        if (out != null) {
            write(results);
        }
        return results.stream().allMatch(r -> r.ok() == set.size()) ? 0 : 1;
    }

    private ObjectNode request(String id, EvalSet.Query q, QueryMode mode) {
        ObjectNode json = Json.mapper().createObjectNode().put("request_id", id).put("text", q.text())
                .put("top_k", RankingMetrics.K).put("tenant", tenant != null ? tenant : q.tenant());
        mode.applyTo(json);
        return json;
    }

    /** Keeps the first answer to each request of this run (a client deduplicates by request id). */
    private static void record(ConsumerRecord<String, String> r, Map<String, Sent> sent, Map<String, Answer> answers) {
        Sent s = r.key() == null ? null : sent.get(r.key());
        if (s == null || answers.containsKey(r.key())) {
            return;
        }
        JsonNode response;
        try {
            response = Json.parse(r.value());
        } catch (IOException e) {
            answers.put(r.key(), new Answer("unreadable_response", List.of(), false, 0));
            return;
        }
        List<String> ids = new ArrayList<>();
        response.path("hits").forEach(h -> ids.add(h.path("doc_id").asText()));
        String status = response.path("status").asText();
        if ("error".equals(status)) {
            status = response.path("error").path("code").asText("error");
        }
        answers.put(r.key(), new Answer(status, ids, "hit".equals(response.path("cache").asText()),
                Math.max(0, r.timestamp() - s.atMs())));
    }

    /** What one mode's requests came to. */
    static final class ModeResult {
        final String mode;
        final RankingMetrics.Summary all = new RankingMetrics.Summary();
        final Map<String, RankingMetrics.Summary> byKind = new TreeMap<>();
        /** Terminal statuses other than ok (error codes, expired), with their counts. */
        final Map<String, Integer> failures = new TreeMap<>();
        final List<Long> latenciesMs = new ArrayList<>();
        int sent;
        int unanswered;
        int cacheHits;

        ModeResult(String mode) {
            this.mode = mode;
        }

        void add(EvalSet.Query q, Answer a) {
            sent++;
            if (a == null) {
                unanswered++;
            } else if (!"ok".equals(a.status())) {
                failures.merge(a.status(), 1, Integer::sum);
            } else {
                all.add(a.docIds(), q.relevant());
                if (q.kind() != null) {
                    byKind.computeIfAbsent(q.kind(), k -> new RankingMetrics.Summary()).add(a.docIds(), q.relevant());
                }
                latenciesMs.add(a.latencyMs());
                if (a.cacheHit()) {
                    cacheHits++;
                }
            }
        }

        int ok() {
            return all.queries();
        }

        /** Every answer (at least one) was mode_unsupported: the server lacks this mode; unanswered ones are counted apart. */
        boolean unsupported() {
            int answered = sent - unanswered;
            return answered > 0 && failures.getOrDefault("mode_unsupported", 0) == answered;
        }

        Double latency(double percentile) {
            return BenchQueriesCommand.percentile(latenciesMs.stream().mapToLong(ms -> ms * 1_000_000).sorted().toArray(), percentile);
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("mode", mode);
            m.put("supported", !unsupported());
            m.put("sent", sent);
            m.put("ok", ok());
            m.put("unanswered", unanswered);
            m.put("errors", failures);
            m.put("cache_hits", cacheHits);
            m.putAll(scores(all));
            m.put("p50_ms", latency(50));
            m.put("p99_ms", latency(99));
            Map<String, Object> kinds = new LinkedHashMap<>();
            byKind.forEach((kind, s) -> kinds.put(kind, scores(s)));
            m.put("by_kind", kinds);
            return m;
        }

        /** The three figures, or nulls when no query was answered ok (no score, not a score of 0). */
        private static Map<String, Object> scores(RankingMetrics.Summary s) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("queries", s.queries());
            m.put("mrr_at_10", s.queries() == 0 ? null : round(s.mrr()));
            m.put("recall_at_10", s.queries() == 0 ? null : round(s.recall()));
            m.put("ndcg_at_10", s.queries() == 0 ? null : round(s.ndcg()));
            return m;
        }
    }

    static String table(List<ModeResult> results, int queries) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"mode", "ok", "MRR@10", "recall@10", "nDCG@10", "p50 ms", "p99 ms", "cache hits", "unanswered", "errors"});
        for (ModeResult r : results) {
            String errors = r.failures.isEmpty() ? "-" : String.join(" ", r.failures.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).toList());
            if (r.unsupported()) {
                rows.add(new String[] {r.mode, "0/" + r.sent, "unsupported", "-", "-", "-", "-", "-", String.valueOf(r.unanswered), errors});
                continue;
            }
            boolean scored = r.ok() > 0;
            rows.add(new String[] {r.mode, r.ok() + "/" + r.sent, scored ? fmt(r.all.mrr()) : "-",
                scored ? fmt(r.all.recall()) : "-", scored ? fmt(r.all.ndcg()) : "-", ms(r.latency(50)), ms(r.latency(99)),
                String.valueOf(r.cacheHits), String.valueOf(r.unanswered), errors});
        }
        return queries + " queries per mode; scores over the queries answered ok\n" + Table.render(rows);
    }

    /** eval.json, with the charts bench-plot renders, then the charts themselves. */
    void write(List<ModeResult> results) throws Exception {
        Files.createDirectories(out);
        List<String> labels = List.of("MRR@10", "recall@10", "nDCG@10");
        Map<String, List<Double>> quality = new LinkedHashMap<>();
        Map<String, List<Double>> latency = new LinkedHashMap<>();
        for (ModeResult r : results) {
            if (r.ok() > 0) {
                quality.put(r.mode, List.of(round(r.all.mrr()), round(r.all.recall()), round(r.all.ndcg())));
                latency.put(r.mode, List.of(r.latency(50), r.latency(99)));
            }
        }
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("queries_file", queries.toString());
        report.put("queries", results.isEmpty() ? 0 : results.get(0).sent);
        report.put("rate_target_qps", rate);
        report.put("tenant", tenant);
        report.put("top_k", RankingMetrics.K);
        report.put("modes", results.stream().map(ModeResult::json).toList());
        report.put("charts", List.of(
                Map.of("file", "eval-quality.png", "title", "Retrieval quality per mode", "y_label", "score",
                        "labels", labels, "series", quality),
                Map.of("file", "eval-latency.png", "title", "Latency per mode at " + rate + " requests/s (send -> answer)",
                        "y_label", "ms", "labels", List.of("p50", "p99"), "series", latency)));
        Path json = out.resolve("eval.json");
        Files.writeString(json, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
        System.out.println("wrote " + json);
        BenchPlotCommand plot = new BenchPlotCommand();
        plot.results = json;
        plot.call();
    }

    private static double round(double x) {
        return Math.round(x * 10_000) / 10_000.0;
    }

    private static String fmt(double x) {
        return String.format(java.util.Locale.ROOT, "%.3f", x);
    }

    private static String ms(Double x) {
        return x == null ? "-" : String.format(java.util.Locale.ROOT, "%.0f", x);
    }
}
