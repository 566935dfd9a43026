package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job at parallelism 2 with the Flink Prometheus reporter on a free port, scraped every second
 * by a real Prometheus that loads the shipped alert rules. After documents (one bad), queries (one
 * bad) and checkpoints, every PromQL expression of docker/grafana/dashboards and
 * docker/prometheus/alerts.yml must evaluate without error and return series
 * (scripts/check-promql.py), and every alert rule must evaluate healthily. A renamed metric, a wrong
 * label or a broken rule fails here instead of showing an empty panel in production.
 */
class ShippedDashboardsAndAlertsQueryLiveMetricsITCase {

    private static final int REPORTER_PORT = freePort();
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path ALERTS = ROOT.resolve("docker/prometheus/alerts.yml");

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setConfiguration(reporterConfig()).setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void everyDashboardPanelAndAlertRuleReturnsSeriesFromALiveRun() throws Exception {
        TestJob test = new TestJob("promql");
        // Scrape from the start, so rate() and deriv() have samples across the whole run.
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus();
                PrometheusServer prometheus = new PrometheusServer(TestServers.prometheusBinary(), dir,
                        "flink-minicluster", "127.0.0.1:" + REPORTER_PORT, ALERTS)) {
            prometheus.awaitReady(Duration.ofSeconds(60));
            test.createTopics(kafka);
            // job_name "embedstream": the FlinkJobNotRunning alert watches the job by that name.
            JobClient job = test.startAs("embedstream", "--redis.uri", TestServers.redisUri(),
                    "--checkpoint.interval", "1s");
            try {
                List<JsonNode> docs = TestJob.corpus().stream()
                        .filter(d -> d.get("text").asText().length() < 1500).limit(12).toList();
                for (JsonNode d : docs) {
                    kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
                }
                kafka.send(test.documents, "bad-json", "{not json");
                TestJob.awaitTrue(() -> milvus.count("chunk_index == 0") == docs.size(), WAIT);

                Set<String> asked = new java.util.HashSet<>();
                for (int i = 0; i < 6; i++) {
                    String id = "q-" + i;
                    asked.add(id);
                    kafka.send(test.queries, id, "{\"request_id\":\"" + id + "\",\"text\":"
                            + Json.write(docs.get(i).get("text").asText()) + ",\"top_k\":3}");
                }
                kafka.send(test.queries, "bad-top-k", "{\"request_id\":\"bad-top-k\",\"text\":\"x\",\"top_k\":0}");
                asked.add("bad-top-k");
                List<ConsumerRecord<String, String>> answers = kafka.readUntil(test.responses,
                        rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked), WAIT);
                assertThat(answers.stream().map(ConsumerRecord::key)).containsAll(asked);

                CheckResult check = runCheckPromql(prometheus.url);
                assertThat(check.exitCode).as("scripts/check-promql.py output:\n%s", check.output).isZero();
                // The checker's summary line proves it evaluated something, not an empty file set.
                Matcher summary = Pattern.compile("(\\d+) of (\\d+) expressions returned series").matcher(check.output);
                assertThat(summary.find()).as(check.output).isTrue();
                assertThat(Integer.parseInt(summary.group(2))).isGreaterThan(50);

                assertEveryRuleEvaluatesHealthily(prometheus);

                // Dead letters are counted per code: one bad document, one bad query.
                Map<String, Double> byCode = new HashMap<>();
                for (JsonNode s : prometheus.query(
                        "sum by (code) (flink_taskmanager_job_task_operator_embedstream_code_deadLetters)")) {
                    byCode.put(s.get("metric").get("code").asText(), s.get("value").get(1).asDouble());
                }
                assertThat(byCode).containsEntry("invalid_json", 1.0).containsEntry("invalid_top_k", 1.0);
                assertThat(byCode.values().stream().mapToDouble(Double::doubleValue).sum()).isEqualTo(2.0);
                // Every known code is a series from the start (at zero), so no panel shows "no data".
                assertThat(byCode.keySet()).containsAll(dev.embedstream.jobs.operators.DeadLetters.CODES);
            } finally {
                job.cancel().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Every rule of alerts.yml is loaded and its last evaluation succeeded (health "ok"). */
    private static void assertEveryRuleEvaluatesHealthily(PrometheusServer prometheus) throws Exception {
        long alertsInFile = Files.readAllLines(ALERTS).stream().filter(l -> l.trim().startsWith("- alert:")).count();
        Map<String, String> health = new HashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        do {
            health.clear();
            for (JsonNode group : prometheus.api("rules").get("groups")) {
                for (JsonNode rule : group.get("rules")) {
                    health.put(rule.get("name").asText(), rule.get("health").asText() + " " + rule.path("lastError").asText());
                }
            }
            if (health.size() == alertsInFile && health.values().stream().allMatch(h -> h.startsWith("ok"))) {
                return;
            }
            Thread.sleep(1000);
        } while (System.nanoTime() < deadline);
        assertThat(health).as("rules loaded from %s and their health", ALERTS).hasSize((int) alertsInFile);
        assertThat(health).allSatisfy((name, h) -> assertThat(h).as(name).startsWith("ok"));
    }

    private record CheckResult(int exitCode, String output) {}

    private CheckResult runCheckPromql(String prometheusUrl) throws Exception {
        Path out = dir.resolve("check-promql.out");
        Process p = new ProcessBuilder("python3", ROOT.resolve("scripts/check-promql.py").toString(),
                "--prometheus", prometheusUrl, "--wait", "90", "--verbose")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(150, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            return new CheckResult(-1, "timed out:\n" + Files.readString(out));
        }
        return new CheckResult(p.exitValue(), Files.readString(out));
    }

    private static Configuration reporterConfig() {
        Configuration conf = new Configuration();
        conf.setString("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        conf.setString("metrics.reporter.prom.port", String.valueOf(REPORTER_PORT));
        return conf;
    }

    private static int freePort() {
        try {
            return PrometheusServer.freePort();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
