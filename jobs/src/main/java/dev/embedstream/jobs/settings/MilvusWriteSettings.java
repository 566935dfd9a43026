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

    public static MilvusWriteSettings from(ReadableConfig c) {
        return new MilvusWriteSettings(
                c.get(MILVUS_WRITE_BATCH_ROWS),
                c.get(MILVUS_WRITE_BATCH_BYTES).getBytes(),
                c.get(MILVUS_WRITE_FLUSH_INTERVAL).toMillis(),
                c.get(MILVUS_WRITE_SEAL_INTERVAL).toMillis());
    }
}
