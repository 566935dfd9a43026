package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.testing.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * eval's way through real Kafka, against a stand-in for the job (the job's modes are tested with
 * the job): every query goes out once per mode, the first answer to each counts (a repeat does not),
 * an unanswered query is counted after --timeout, and a mode answered only mode_unsupported is
 * reported as unsupported.
 */
class EvalCommandITCase {

    @TempDir
    Path dir;

    @Test
    void scoresEachModeFromItsAnswersAndCountsWhatWasNotAnswered() throws Exception {
        String bootstrap = TestServers.kafkaBootstrap();
        String suffix = Long.toString(System.nanoTime());
        String queries = "eval-it-queries-" + suffix;
        String responses = "eval-it-responses-" + suffix;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(queries, 2, (short) 1), new NewTopic(responses, 2, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
        }
        Path set = Files.writeString(dir.resolve("set.jsonl"), """
                {"text": "first", "relevant": ["d1"], "kind": "name"}
                {"text": "second", "relevant": ["d2"], "kind": "paraphrase"}
                {"text": "never answered", "relevant": ["d3"]}
                """);
        AtomicBoolean stop = new AtomicBoolean();
        Thread job = new Thread(() -> standIn(bootstrap, queries, responses, stop));
        job.start();
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        try {
            System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
            code = new CommandLine(new EmbedstreamCli()).registerConverter(Duration.class, EmbedstreamCli::parseDuration)
                    .setExecutionExceptionHandler(EmbedstreamCli::refusal)
                    .execute("--bootstrap", bootstrap, "--queries-topic", queries, "--responses-topic", responses,
                            "eval", "--queries", set.toString(), "--mode", "dense,keyword", "--rate", "50",
                            "--timeout", "3s", "--out", dir.resolve("out").toString());
        } finally {
            System.setOut(original);
            stop.set(true);
            job.join();
        }
        String table = stdout.toString(StandardCharsets.UTF_8);
        System.out.println(table);
        assertThat(code).isEqualTo(1); // not every query was answered ok
        assertThat(table).contains("unsupported").contains("mode_unsupported=2");
        JsonNode report = Json.parse(Files.readString(dir.resolve("out/eval.json")));
        JsonNode dense = report.path("modes").get(0);
        assertThat(dense.path("mode").asText()).isEqualTo("dense");
        assertThat(dense.path("sent").asInt()).isEqualTo(3);
        assertThat(dense.path("ok").asInt()).isEqualTo(2);
        assertThat(dense.path("unanswered").asInt()).isEqualTo(1);
        assertThat(dense.path("mrr_at_10").asDouble()).isEqualTo(0.75); // ranks 1 and 2; the repeat answer is ignored
        assertThat(dense.path("by_kind").path("name").path("mrr_at_10").asDouble()).isEqualTo(1.0);
        assertThat(dense.path("p99_ms").isNumber()).isTrue();
        JsonNode keyword = report.path("modes").get(1);
        assertThat(keyword.path("supported").asBoolean()).isFalse();
        assertThat(keyword.path("mrr_at_10").isNumber()).isFalse(); // no score, not a score of 0
        assertThat(keyword.path("unanswered").asInt()).isEqualTo(1);
        assertThat(dir.resolve("out/eval-quality.png")).isNotEmptyFile();
    }

    /**
     * Answers like a dense-only job: dense queries ok ("first" ranks d1 first, "second" ranks d2
     * second, then answers it again with d2 first, a repeat that must not count), other modes
     * mode_unsupported, "never answered" never.
     */
    private static void standIn(String bootstrap, String queries, String responses, AtomicBoolean stop) {
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("group.id", "eval-it-job-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("linger.ms", "0");
        try (KafkaConsumer<String, String> in = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
                KafkaProducer<String, String> out = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            in.subscribe(List.of(queries));
            while (!stop.get()) {
                for (ConsumerRecord<String, String> r : in.poll(Duration.ofMillis(100))) {
                    JsonNode q = Json.parse(r.value());
                    String text = q.path("text").asText();
                    if (text.equals("never answered")) {
                        continue;
                    }
                    ObjectNode answer = Json.mapper().createObjectNode().put("request_id", r.key());
                    if (!q.path("mode").asText().equals("dense")) {
                        answer.put("status", "error").putObject("error").put("code", "mode_unsupported").put("message", "no BM25");
                    } else {
                        answer.put("status", "ok").put("cache", "miss");
                        var hits = answer.putArray("hits");
                        (text.equals("first") ? List.of("d1", "x") : List.of("x", "d2")).forEach(id -> hits.addObject().put("doc_id", id));
                    }
                    out.send(new ProducerRecord<>(responses, r.key(), answer.toString()));
                    if (text.equals("second")) {
                        answer.putArray("hits").addObject().put("doc_id", "d2");
                        out.send(new ProducerRecord<>(responses, r.key(), answer.toString()));
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
