package dev.embedstream.common.milvus;

import static dev.embedstream.common.EmbedstreamOptions.MILVUS_COLLECTION;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_RPC_TIMEOUT;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_TOKEN;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_URI;

import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * How to reach the Milvus collection; small and serializable so operators can build their client
 * in {@code open()}. {@code token} may be null; it is never printed by {@link #toString()}.
 */
public record MilvusSettings(String uri, String token, String collection, long rpcTimeoutMs, long connectTimeoutMs)
        implements Serializable {

    /** The {@code milvus.*} connection options; the token falls back to {@code EMBEDSTREAM_MILVUS_TOKEN}. */
    public static MilvusSettings from(ReadableConfig c) {
        String token = c.getOptional(MILVUS_TOKEN).orElse(System.getenv("EMBEDSTREAM_MILVUS_TOKEN"));
        long rpc = c.get(MILVUS_RPC_TIMEOUT).toMillis();
        return new MilvusSettings(c.get(MILVUS_URI), token, c.get(MILVUS_COLLECTION), rpc, rpc);
    }

    @Override
    public String toString() {
        return "MilvusSettings[uri=" + uri + ", collection=" + collection + ", token=" + (token == null ? "none" : "***")
                + ", rpcTimeoutMs=" + rpcTimeoutMs + "]";
    }
}
