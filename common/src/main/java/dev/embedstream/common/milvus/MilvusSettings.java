package dev.embedstream.common.milvus;

import java.io.Serializable;

/**
 * How to reach the Milvus collection; small and serializable so operators can build their client
 * in {@code open()}. {@code token} may be null; it is never printed by {@link #toString()}.
 */
public record MilvusSettings(String uri, String token, String collection, long rpcTimeoutMs, long connectTimeoutMs)
        implements Serializable {

    @Override
    public String toString() {
        return "MilvusSettings[uri=" + uri + ", collection=" + collection + ", token=" + (token == null ? "none" : "***")
                + ", rpcTimeoutMs=" + rpcTimeoutMs + "]";
    }
}
