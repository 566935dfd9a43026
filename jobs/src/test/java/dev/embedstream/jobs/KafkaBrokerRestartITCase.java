package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.testing.ServerControl;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
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
    static final MiniClusterExtension FLINK = RecoveringJob.miniCluster(1, 2);

    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void theJobRecoversFromABrokerRestartAndLosesNothing() throws Exception {
        List<JsonNode> corpus = TestJob.corpus().subList(800, 880);
        try (RecoveringJob run = RecoveringJob.start("kr", corpus, "2s", 30)) {
            run.send(corpus.subList(0, 40));
            run.awaitFirstRows(WAIT);

            ServerControl.stopKafka();
            try {
                Thread.sleep(10_000);
            } finally {
                ServerControl.startKafka();
            }

            run.send(corpus.subList(40, corpus.size()));
            Set<String> asked = new HashSet<>();
            for (int i = 0; i < 5; i++) {
                String id = "after-restart-" + i;
                asked.add(id);
                run.ask(id, "read a file");
            }

            run.assertEveryChunkExactlyOnce(WAIT);

            List<ConsumerRecord<String, String>> responses = run.kafka.readUntil(run.test.responses,
                    rs -> rs.stream().map(ConsumerRecord::key).collect(Collectors.toSet()).containsAll(asked), WAIT);
            Map<String, String> status = new HashMap<>();
            for (ConsumerRecord<String, String> r : responses) {
                status.putIfAbsent(r.key(), Json.parse(r.value()).get("status").asText());
            }
            assertThat(status).containsKeys(asked.toArray(String[]::new));
            asked.forEach(id -> assertThat(status.get(id)).as("answer to %s", id).isEqualTo("ok"));
        }
    }
}
