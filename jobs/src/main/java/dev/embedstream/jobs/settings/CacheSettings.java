package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.cache.RedisLink;
import java.io.Serializable;
import java.time.Duration;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Redis and the three caches in front of the model and Milvus: {@code redis.*} and {@code cache.*}.
 *
 * @param redisUri null without Redis: then only the in-process embedding cache works
 */
public record CacheSettings(
        String redisUri,
        String redisPassword,
        long redisTimeoutMs,
        long embeddingTtlMs,
        long embeddingL1Bytes,
        boolean retrievalEnabled,
        long retrievalTtlMs,
        long epochRefreshMs,
        long retrievalL1Bytes,
        boolean semanticEnabled,
        double semanticThreshold,
        long semanticBytes)
        implements Serializable {

    public CacheSettings {
        require(epochRefreshMs >= 1, CACHE_RETRIEVAL_EPOCH_REFRESH, "must be positive");
        require(semanticThreshold > 0 && semanticThreshold <= 1, CACHE_SEMANTIC_THRESHOLD, "must be in (0, 1]");
    }

    public static CacheSettings from(ReadableConfig c) {
        return new CacheSettings(
                c.getOptional(REDIS_URI).filter(u -> !u.isBlank()).orElse(null),
                c.getOptional(REDIS_PASSWORD).orElse(System.getenv("EMBEDSTREAM_REDIS_PASSWORD")),
                c.get(REDIS_TIMEOUT).toMillis(),
                c.get(CACHE_EMBEDDING_TTL).toMillis(),
                c.get(CACHE_EMBEDDING_L1_SIZE).getBytes(),
                c.get(CACHE_RETRIEVAL_ENABLED),
                c.get(CACHE_RETRIEVAL_TTL).toMillis(),
                c.get(CACHE_RETRIEVAL_EPOCH_REFRESH).toMillis(),
                c.get(CACHE_RETRIEVAL_L1_SIZE).getBytes(),
                c.get(CACHE_SEMANTIC_ENABLED),
                c.get(CACHE_SEMANTIC_THRESHOLD),
                c.get(CACHE_SEMANTIC_SIZE).getBytes());
    }

    /** A connection to the configured Redis, built in an operator's {@code open()}. */
    public RedisLink redisLink(String name) {
        return new RedisLink(name, redisUri, redisPassword, Duration.ofMillis(redisTimeoutMs));
    }

    public boolean redisOn() {
        return redisUri != null;
    }

    /** Answers are cached only with Redis: the collection epochs that invalidate them live there. */
    public boolean retrievalCacheOn() {
        return retrievalEnabled && redisOn();
    }

    public boolean semanticCacheOn() {
        return semanticEnabled && retrievalCacheOn();
    }

    /** Redis URIs (they may carry a password) and passwords are secrets: never print them. */
    @Override
    public String toString() {
        return "CacheSettings[redis=" + (redisOn() ? "on" : "off") + ", retrieval=" + retrievalCacheOn()
                + ", semantic=" + semanticCacheOn() + "]";
    }
}
