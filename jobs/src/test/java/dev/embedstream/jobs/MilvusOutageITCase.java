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
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Stops the Milvus server for 30 s while documents and queries keep coming: queries during the
 * outage are answered {@code error} within their budget, and once Milvus is back every document
 * is there exactly once.
 */
class MilvusOutageITCase {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void nothingIsLostAndQueriesGetErrorsWhileMilvusIsDown() throws Exception {
        TestJob test = new TestJob("mo");
        List<JsonNode> corpus = TestJob.corpus().subList(400, 520);
        Set<String> expected = TestJob.expectedChunkIds(corpus);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
                MilvusStore milvus = test.milvus()) {
            test.createTopics(kafka);
            JobClient job = test.start("--milvus.rpc-timeout", "3s", "--query.search-timeout", "3s",
                    "--checkpoint.interval", "2s",
                    "--restart-strategy.type", "fixed-delay",
                    "--restart-strategy.fixed-delay.attempts", "20",
                    "--restart-strategy.fixed-delay.delay", "2s");

            for (JsonNode d : corpus.subList(0, 60)) {
                kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
            }
            TestJob.awaitTrue(() -> TestJob.count(milvus) > 0, WAIT);

            ServerControl.stopMilvus();
            Map<String, Long> sentAt = new HashMap<>();
            try {
                for (JsonNode d : corpus.subList(60, corpus.size())) {
                    kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
                }
                for (int i = 0; i < 5; i++) {
                    String id = "outage-" + i;
                    sentAt.put(id, System.currentTimeMillis());
                    kafka.send(test.queries, id, "{\"request_id\":\"" + id + "\",\"text\":\"read a file\"}");
                    Thread.sleep(2_000);
                }
                List<ConsumerRecord<String, String>> during = kafka.readUntil(test.responses,
                        rs -> rs.stream().map(ConsumerRecord::key).collect(java.util.stream.Collectors.toSet())
                                .containsAll(sentAt.keySet()), OUTAGE);
                Map<String, JsonNode> answers = new HashMap<>();
                for (ConsumerRecord<String, String> r : during) {
                    answers.putIfAbsent(r.key(), Json.parse(r.value()));
                    assertThat(r.timestamp() - sentAt.get(r.key())).as("answer time of %s", r.key()).isLessThan(15_000);
                }
                assertThat(answers.keySet()).containsAll(sentAt.keySet());
                answers.values().forEach(a -> assertThat(a.get("status").asText()).isEqualTo("error"));
                Thread.sleep(Math.max(0, OUTAGE.toMillis() - 15_000));
            } finally {
                ServerControl.startMilvus();
            }

            TestJob.awaitTrue(() -> TestJob.count(milvus) >= expected.size(), WAIT);
            Thread.sleep(3_000);
            List<String> ids = milvus.query("chunk_index >= 0", List.of("chunk_id")).stream()
                    .map(r -> (String) r.get("chunk_id")).toList();
            assertThat(ids).doesNotHaveDuplicates();
            assertThat(new HashSet<>(ids)).isEqualTo(expected);

            kafka.send(test.queries, "after", "{\"request_id\":\"after\",\"text\":\"read a file\"}");
            List<ConsumerRecord<String, String>> after = kafka.readUntil(test.responses,
                    rs -> rs.stream().anyMatch(r -> r.key().equals("after")), WAIT);
            JsonNode answer = Json.parse(after.stream().filter(r -> r.key().equals("after")).findFirst().orElseThrow().value());
            assertThat(answer.get("status").asText()).isEqualTo("ok");
            job.cancel().get();
        }
    }
}
