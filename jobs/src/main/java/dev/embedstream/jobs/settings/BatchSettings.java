package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.BatchStrategy;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/** How the embedding operators gather inputs into model calls: {@code batch.*}. */
public record BatchSettings(
        int maxSize,
        int maxTokens,
        long latencyTargetMs,
        long documentsMaxWaitMs,
        long queriesMaxWaitMs,
        int maxBuffered,
        long maxBufferedBytes,
        BatchStrategy strategy,
        int documentsNice)
        implements Serializable {

    public BatchSettings {
        require(maxSize >= 1, BATCH_MAX_SIZE, "must be >= 1");
        require(documentsNice >= 0 && documentsNice <= 19, BATCH_DOC_NICE, "must be in [0, 19]");
        require(maxBuffered >= maxSize, BATCH_MAX_BUFFERED, "must be >= " + BATCH_MAX_SIZE.key());
    }

    public static BatchSettings from(ReadableConfig c) {
        BatchSettings s = new BatchSettings(
                c.get(BATCH_MAX_SIZE),
                c.get(BATCH_MAX_TOKENS),
                c.get(BATCH_LATENCY_TARGET).toMillis(),
                c.get(BATCH_DOC_MAX_WAIT).toMillis(),
                c.get(BATCH_QUERY_MAX_WAIT).toMillis(),
                c.get(BATCH_MAX_BUFFERED),
                c.get(BATCH_MAX_BUFFERED_BYTES).getBytes(),
                c.get(BATCH_STRATEGY),
                c.get(BATCH_DOC_NICE));
        // A batch that cannot hold one full window could never embed a long chunk.
        require(s.maxTokens >= c.get(MODEL_MAX_TOKENS), BATCH_MAX_TOKENS,
                "must hold at least one full window (" + MODEL_MAX_TOKENS.key() + ")");
        return s;
    }
}
