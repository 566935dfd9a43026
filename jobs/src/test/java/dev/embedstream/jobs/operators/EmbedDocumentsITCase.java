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
        var first = open(null, withRedis);
        first.processElement(new StreamRecord<>(chunk("a", "cached one " + unique)));
        first.processElement(new StreamRecord<>(chunk("b", "cached two " + unique)));
        first.setProcessingTime(1); // a full batch runs a millisecond later
        List<ChunkTask> computed = first.extractOutputValues();
        first.close();
        assertThat(RecordingEmbedder.CALLS).hasSize(1);

        var second = open(null, withRedis);
        second.processElement(new StreamRecord<>(chunk("a", "cached one " + unique)));
        second.processElement(new StreamRecord<>(chunk("b", "cached two " + unique)));
        second.setProcessingTime(1); // a full batch runs a millisecond later
        List<ChunkTask> cached = second.extractOutputValues();
        second.close();
        assertThat(RecordingEmbedder.CALLS).as("model calls").hasSize(1);
        assertThat(cached.get(0).vector()).containsExactly(computed.get(0).vector());
        assertThat(cached.get(1).vector()).containsExactly(computed.get(1).vector());
    }
}
