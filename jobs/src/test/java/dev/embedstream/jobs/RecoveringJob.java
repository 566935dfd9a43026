package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/**
 * The whole job run so that it must ride out a failure (a server stopped, a TaskManager killed):
 * checkpoints and fixed-delay restarts, one slice of the corpus to ingest, and the promise such a
 * test proves in the end, that every chunk of the slice is in Milvus exactly once.
 */
final class RecoveringJob implements AutoCloseable {

    final TestJob test;
    final KafkaTestSupport kafka;
    final MilvusStore milvus;
    final JobClient job;
    private final Set<String> expected;

    /** A MiniCluster of {@code taskManagers} with {@code slots} slots each, for a test class to register. */
    static MiniClusterExtension miniCluster(int taskManagers, int slots) {
        return new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(taskManagers).setNumberSlotsPerTaskManager(slots).build());
    }

    private RecoveringJob(TestJob test, KafkaTestSupport kafka, MilvusStore milvus, JobClient job, Set<String> expected) {
        this.test = test;
        this.kafka = kafka;
        this.milvus = milvus;
        this.job = job;
        this.expected = expected;
    }

    /**
     * Starts the job on its own topics and collection, to ingest {@code corpus}: a checkpoint and
     * a restart attempt every {@code pace} (at most {@code restartAttempts}), and {@code more} options.
     */
    static RecoveringJob start(String name, List<JsonNode> corpus, String pace, int restartAttempts, String... more)
            throws Exception {
        TestJob test = new TestJob(name);
        KafkaTestSupport kafka = new KafkaTestSupport(TestServers.kafkaBootstrap());
        MilvusStore milvus = test.milvus();
        try {
            test.createTopics(kafka);
            List<String> args = new ArrayList<>(List.of("--checkpoint.interval", pace,
                    "--restart-strategy.type", "fixed-delay",
                    "--restart-strategy.fixed-delay.attempts", String.valueOf(restartAttempts),
                    "--restart-strategy.fixed-delay.delay", pace));
            args.addAll(List.of(more));
            JobClient job = test.start(args.toArray(String[]::new));
            return new RecoveringJob(test, kafka, milvus, job, TestJob.expectedChunkIds(corpus));
        } catch (Exception | Error e) {
            milvus.close();
            kafka.close();
            throw e;
        }
    }

    /** Publishes documents of the corpus, keyed by doc_id. */
    void send(List<JsonNode> documents) {
        for (JsonNode d : documents) {
            kafka.send(test.documents, d.get("doc_id").asText(), d.toString());
        }
    }

    /** Publishes a query, keyed by its request id. */
    void ask(String requestId, String text) {
        kafka.send(test.queries, requestId, "{\"request_id\":\"" + requestId + "\",\"text\":\"" + text + "\"}");
    }

    /** Waits until the first of the corpus is in Milvus: the job is running and writing. */
    void awaitFirstRows(Duration wait) throws InterruptedException {
        TestJob.awaitTrue(() -> TestJob.count(milvus) > 0, wait);
    }

    /** Waits for all of the corpus's chunks, lets any replayed write land, then: each is there exactly once. */
    void assertEveryChunkExactlyOnce(Duration wait) throws InterruptedException {
        TestJob.awaitTrue(() -> TestJob.count(milvus) >= expected.size(), wait);
        Thread.sleep(3_000);
        List<String> ids = milvus.query("chunk_index >= 0", List.of("chunk_id")).stream()
                .map(r -> (String) r.get("chunk_id")).toList();
        assertThat(ids).as("no chunk twice").doesNotHaveDuplicates();
        assertThat(new HashSet<>(ids)).as("every chunk of the corpus").isEqualTo(expected);
    }

    @Override
    public void close() throws Exception {
        try {
            job.cancel().get();
        } finally {
            milvus.close();
            kafka.close();
        }
    }
}
