package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.RedisProcess;
import dev.embedstream.common.testing.TestServers;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs the job with a Redis password (against a redis-server that requires it), a Milvus token
 * and a Kafka SASL JAAS config, captures everything logged at INFO and above by Flink, the
 * clients and the job, and checks that no secret appears there, in the dead letters or in the
 * responses, while the password demonstrably works (a repeated question is a cache hit).
 */
class SecretsStayOutOfLogsAndRecordsITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(120);

    @Test
    void noSecretReachesTheLogsTheDeadLettersOrTheResponses() throws Exception {
        String redisPassword = "redis-pw-" + UUID.randomUUID();
        String milvusToken = "root:milvus-pw-" + UUID.randomUUID();
        String kafkaPassword = "kafka-pw-" + UUID.randomUUID();
        RedisProcess redis = RedisProcess.start(false, "--requirepass", redisPassword);
        int port = redis.port;
        StringWriter logs = new StringWriter();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration cfg = ctx.getConfiguration();
        WriterAppender capture = WriterAppender.newBuilder().setName("capture-" + port).setTarget(logs)
                .setLayout(PatternLayout.newBuilder().withPattern("%c %m %throwable%n").build()).build();
        capture.start();
        cfg.addAppender(capture);
        LoggerConfig root = cfg.getRootLogger();
        Level before = root.getLevel();
        // The existing appenders keep a WARN threshold (no INFO flood in the build log); only the capture sees INFO.
        java.util.Map<String, org.apache.logging.log4j.core.Appender> existing = new java.util.HashMap<>(root.getAppenders());
        existing.forEach((name, appender) -> {
            root.removeAppender(name);
            root.addAppender(appender, Level.WARN, null);
        });
        root.addAppender(capture, Level.INFO, null);
        root.setLevel(Level.INFO);
        ctx.updateLoggers();
        TestJob test = new TestJob("secrets");
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--redis.uri", "redis://127.0.0.1:" + port, "--redis.password", redisPassword,
                    "--milvus.token", milvusToken,
                    "--kafka.properties.sasl.jaas.config",
                    "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"" + kafkaPassword + "\";");
            try {
                kafka.send(test.documents, "bad", "{\"doc_id\": \"bad\", \"text\": ");
                kafka.send(test.documents, "doc", "{\"doc_id\": \"doc\", \"text\": \"how to rotate log files every night\"}");
                TestJob.awaitTrue(() -> TestJob.count(milvus) == 1, WAIT);
                String question = "{\"request_id\": \"%s\", \"text\": \"rotate log files\"}";
                kafka.send(test.queries, "q1", question.formatted("q1"));
                kafka.readUntil(test.responses, rs -> rs.stream().anyMatch(r -> r.key().equals("q1")), WAIT);
                kafka.send(test.queries, "q2", question.formatted("q2"));
                List<ConsumerRecord<String, String>> responses =
                        kafka.readUntil(test.responses, rs -> rs.stream().anyMatch(r -> r.key().equals("q2")), WAIT);
                List<ConsumerRecord<String, String>> dead = kafka.readUntil(test.deadLetters, rs -> !rs.isEmpty(), WAIT);

                JsonNode second = Json.parse(responses.stream().filter(r -> r.key().equals("q2")).findFirst().orElseThrow().value());
                assertThat(second.get("cache").asText()).as("the password authenticates: the answer came from Redis").isEqualTo("hit");
                assertThat(dead).hasSize(1);
                for (String secret : List.of(redisPassword, milvusToken, "milvus-pw-", kafkaPassword)) {
                    assertThat(dead).allSatisfy(r -> assertThat(r.value()).doesNotContain(secret));
                    assertThat(responses).allSatisfy(r -> assertThat(r.value()).doesNotContain(secret));
                }
            } finally {
                job.cancel().get();
            }
        } finally {
            root.removeAppender(capture.getName());
            existing.forEach((name, appender) -> {
                root.removeAppender(name);
                root.addAppender(appender, null, null);
            });
            root.setLevel(before);
            ctx.updateLoggers();
            capture.stop();
            redis.close();
        }
        String logged = logs.toString();
        assertThat(logged).as("something was captured (Kafka client configs are logged at INFO)").contains("ConsumerConfig");
        for (String secret : List.of(redisPassword, "milvus-pw-", kafkaPassword)) {
            assertThat(logged).as("logs mention a secret").doesNotContain(secret);
        }
    }
}
