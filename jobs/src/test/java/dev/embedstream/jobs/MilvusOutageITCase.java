package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.testing.ServerControl;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    static final MiniClusterExtension FLINK = RecoveringJob.miniCluster(1, 2);

    private static final Duration OUTAGE = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void nothingIsLostAndQueriesGetErrorsWhileMilvusIsDown() throws Exception {
        List<JsonNode> corpus = TestJob.corpus().subList(400, 520);
        try (RecoveringJob run = RecoveringJob.start("mo", corpus, "2s", 20,
                "--milvus.rpc-timeout", "3s", "--query.search-timeout", "3s")) {
            TestJob test = run.test;
            run.send(corpus.subList(0, 60));
            run.awaitFirstRows(WAIT);

            ServerControl.stopMilvus();
            Map<String, Long> sentAt = new HashMap<>();
            try {
                run.send(corpus.subList(60, corpus.size()));
                for (int i = 0; i < 5; i++) {
                    String id = "outage-" + i;
                    sentAt.put(id, System.currentTimeMillis());
                    run.ask(id, "read a file");
                    Thread.sleep(2_000);
                }
                List<ConsumerRecord<String, String>> during = run.kafka.readUntil(test.responses,
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

            run.assertEveryChunkExactlyOnce(WAIT);

            run.ask("after", "read a file");
            List<ConsumerRecord<String, String>> after = run.kafka.readUntil(test.responses,
                    rs -> rs.stream().anyMatch(r -> r.key().equals("after")), WAIT);
            JsonNode answer = Json.parse(after.stream().filter(r -> r.key().equals("after")).findFirst().orElseThrow().value());
            assertThat(answer.get("status").asText()).isEqualTo("ok");
        }
    }
}
