package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.ServerControl;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Restarts the real Kafka broker (controlled shutdown, 10 s down, same port and data) under a
 * running job: the job recovers on its own, every document sent before and after lands in Milvus
 * exactly once, and queries sent after the restart are answered.
 */
class KafkaBrokerRestartITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void theJobRecoversFromABrokerRestartAndLosesNothing() throws Exception {
        TestJob test = new TestJob("kr");
        List<JsonNode> corpus = TestJob.corpus().subList(800, 880);
        Set<String> expected = TestJob.expectedChunkIds(corpus);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap()); MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--checkpoint.interval", "2s",
                    "--restart-strategy.type", "fixed-delay",
                    "--restart-strategy.fixed-delay.attempts", "30",
                    "--restart-strategy.fixed-delay.delay", "2s");
            for (JsonNode d : corpus.subList(0, 40)) {
                kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
            }
            TestJob.awaitTrue(() -> TestJob.count(milvus) > 0, WAIT);

            ServerControl.stopKafka();
            try {
                Thread.sleep(10_000);
            } finally {
                ServerControl.startKafka();
            }

            for (JsonNode d : corpus.subList(40, corpus.size())) {
                kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
            }
            Map<String, Long> asked = new HashMap<>();
            for (int i = 0; i < 5; i++) {
                String id = "after-restart-" + i;
                asked.put(id, System.currentTimeMillis());
                kafka.send(test.queries, id, "{\"request_id\":\"" + id + "\",\"text\":\"read a file\"}");
            }

            TestJob.awaitTrue(() -> TestJob.count(milvus) >= expected.size(), WAIT);
            Thread.sleep(3_000);
            List<String> ids = milvus.query("chunk_index >= 0", List.of("chunk_id")).stream()
                    .map(r -> (String) r.get("chunk_id")).toList();
            assertThat(ids).as("no chunk twice").doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).as("every chunk of the 80 documents").isEqualTo(expected);

            List<ConsumerRecord<String, String>> responses = kafka.readUntil(test.responses,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked.keySet()), WAIT);
            Map<String, String> status = new HashMap<>();
            for (ConsumerRecord<String, String> r : responses) {
                status.putIfAbsent(r.key(), Json.parse(r.value()).get("status").asText());
            }
            assertThat(status).containsKeys(asked.keySet().toArray(String[]::new));
            asked.keySet().forEach(id -> assertThat(status.get(id)).as("answer to %s", id).isEqualTo("ok"));
            job.cancel().get();
        }
    }
}
