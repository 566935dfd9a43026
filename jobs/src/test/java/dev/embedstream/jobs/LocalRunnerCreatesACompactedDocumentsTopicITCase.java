package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;

/**
 * The documents topic is the source of truth of a model migration: its backfill job replays it
 * from the earliest offset, which yields the current corpus only when the topic is compacted
 * (DESIGN section 2). run-local.sh --kafka HOST:PORT has LocalRunner create the missing topics; the
 * documents topic must come out compacted, the others not (a compacted queries topic would keep
 * every request id forever).
 */
class LocalRunnerCreatesACompactedDocumentsTopicITCase {

    @Test
    void documentsTopicTheLocalRunCreatesIsCompactedAndTheOthersAreNot() throws Exception {
        String run = "local-topics-" + UUID.randomUUID().toString().substring(0, 8);
        Configuration conf = JobConfig.fromArgs(new String[] {
            "--kafka.bootstrap-servers", TestServers.kafkaBootstrap(),
            "--topic.documents", run + "-docs", "--topic.queries", run + "-queries",
            "--topic.responses", run + "-responses", "--topic.dlq", run + "-dlq"});
        LocalRunner.createMissingTopics(conf);
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap())) {
            assertThat(kafka.topicConfig(run + "-docs", TopicConfig.CLEANUP_POLICY_CONFIG)).isEqualTo("compact");
            for (String other : new String[] {"-queries", "-responses", "-dlq"}) {
                assertThat(kafka.topicConfig(run + other, TopicConfig.CLEANUP_POLICY_CONFIG)).as(other).isEqualTo("delete");
            }
        }
    }

    @Test
    void theTestJobsDocumentsTopicIsCompactedLikeEveryDeployments() throws Exception {
        TestJob test = new TestJob("test-topics");
        try (KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap())) {
            test.createTopics(kafka);
            assertThat(kafka.topicConfig(test.documents, TopicConfig.CLEANUP_POLICY_CONFIG)).isEqualTo("compact");
            assertThat(kafka.topicConfig(test.queries, TopicConfig.CLEANUP_POLICY_CONFIG)).isEqualTo("delete");
        }
    }
}
