package dev.embedstream.jobs.operators;

import static dev.embedstream.jobs.operators.EmbedDocumentsTest.chunk;
import static dev.embedstream.jobs.operators.EmbedDocumentsTest.open;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.ChunkTask;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The document embedder's Redis cache level, in Flink's operator harness with a fake model, against
 * the real redis-server of scripts/test.sh. Without Redis: EmbedDocumentsTest.
 */
class EmbedDocumentsITCase {

    @BeforeEach
    void setUp() {
        RecordingEmbedder.reset();
    }

    @Test
    void textsCachedInRedisSkipTheModelOfAnotherTaskManager() throws Exception {
        // No L1, as in a second TaskManager: only Redis can know the vectors.
        JobSettings withRedis = TestSettings.with("batch.max-size", "2", "redis.uri", TestServers.redisUri(),
                "cache.embedding.l1-size", "0");
        String unique = java.util.UUID.randomUUID().toString();
        List<ChunkTask> computed = embedInANewTaskManager(withRedis, "cached one " + unique, "cached two " + unique);
        assertThat(RecordingEmbedder.CALLS).hasSize(1);

        List<ChunkTask> cached = embedInANewTaskManager(withRedis, "cached one " + unique, "cached two " + unique);
        assertThat(RecordingEmbedder.CALLS).as("model calls").hasSize(1);
        assertThat(cached.get(0).vector()).containsExactly(computed.get(0).vector());
        assertThat(cached.get(1).vector()).containsExactly(computed.get(1).vector());
    }

    /** Embeds one full batch of two chunks in an operator opened for it (its own L1), then closes it. */
    private static List<ChunkTask> embedInANewTaskManager(JobSettings settings, String first, String second)
            throws Exception {
        var h = open(null, settings);
        h.processElement(new StreamRecord<>(chunk("a", first)));
        h.processElement(new StreamRecord<>(chunk("b", second)));
        h.setProcessingTime(1); // a full batch runs a millisecond later
        List<ChunkTask> embedded = h.extractOutputValues();
        h.close();
        return embedded;
    }
}
