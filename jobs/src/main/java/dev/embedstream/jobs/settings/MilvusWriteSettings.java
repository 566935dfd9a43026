package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * How the Milvus sink batches and seals its writes: {@code milvus.write.*}.
 *
 * @param sealIntervalMs 0 or less: never seal on a timer
 */
public record MilvusWriteSettings(int batchRows, long batchBytes, long flushIntervalMs, long sealIntervalMs)
        implements Serializable {

    public MilvusWriteSettings {
        require(batchRows >= 1, MILVUS_WRITE_BATCH_ROWS, "must be >= 1");
        require(batchBytes >= 1024, MILVUS_WRITE_BATCH_BYTES, "must be >= 1kb");
    }

    /** The same with another seal interval (a backfill job's default, see {@link #from(ReadableConfig, Role)}). */
    public MilvusWriteSettings withSealIntervalMs(long ms) {
        return new MilvusWriteSettings(batchRows, batchBytes, flushIntervalMs, ms);
    }

    /**
     * As {@link #from(ReadableConfig)}; a backfill job that is not given {@code
     * milvus.write.seal-interval} never seals on a timer: its collection serves no query until
     * {@code migrate --swap}, which seals it first, and every seal on Milvus Lite stalls the
     * serving job's searches while the backfill runs.
     */
    public static MilvusWriteSettings from(ReadableConfig c, Role role) {
        MilvusWriteSettings s = from(c);
        return role == Role.BACKFILL && c.getOptional(MILVUS_WRITE_SEAL_INTERVAL).isEmpty() ? s.withSealIntervalMs(0) : s;
    }

    public static MilvusWriteSettings from(ReadableConfig c) {
        return new MilvusWriteSettings(
                c.get(MILVUS_WRITE_BATCH_ROWS),
                c.get(MILVUS_WRITE_BATCH_BYTES).getBytes(),
                c.get(MILVUS_WRITE_FLUSH_INTERVAL).toMillis(),
                c.get(MILVUS_WRITE_SEAL_INTERVAL).toMillis());
    }
}
