package dev.embedstream.common.cache;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisFuture;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Redis level (L2) of the embedding cache. Keys are
 * {@code embedstream:emb:<model fingerprint>:<tenant>:<sha256 of the normalised text>}; values are
 * the vector as raw little-endian float32 (4 bytes a dimension), written with SETEX and a TTL.
 * Lookups are one MGET per batch. It fails open through its {@link RedisLink}: a failed lookup
 * is a miss, a failed write is dropped.
 */
public final class RedisEmbeddingCache {

    private final RedisLink link;
    private final String prefix;
    private final long ttlSeconds;

    public RedisEmbeddingCache(RedisLink link, String fingerprint, Duration ttl) {
        this.link = link;
        this.prefix = "embedstream:emb:" + fingerprint + ":";
        this.ttlSeconds = Math.max(1, ttl.toSeconds());
    }

    byte[] redisKey(EmbeddingCache.Key k) {
        return (prefix + k.tenant() + ":" + k.digest()).getBytes(StandardCharsets.UTF_8);
    }

    /** Vectors found for {@code keys}; anything missing, or a Redis failure, is a miss. */
    public Map<EmbeddingCache.Key, float[]> getAll(List<EmbeddingCache.Key> keys) {
        Map<EmbeddingCache.Key, float[]> hits = new HashMap<>();
        if (keys.isEmpty()) {
            return hits;
        }
        byte[][] redisKeys = new byte[keys.size()][];
        for (int i = 0; i < keys.size(); i++) {
            redisKeys[i] = redisKey(keys.get(i));
        }
        link.call("embedding lookup", redis -> redis.mget(redisKeys)).ifPresent(values -> {
            for (int i = 0; i < values.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                if (kv.hasValue()) {
                    hits.put(keys.get(i), decode(kv.getValue()));
                }
            }
        });
        return hits;
    }

    /** Stores vectors with the TTL, without waiting for Redis to confirm. */
    public void putAll(Map<EmbeddingCache.Key, float[]> entries) {
        if (entries.isEmpty()) {
            return;
        }
        link.send("embedding write-back", redis -> {
            List<RedisFuture<?>> sent = new ArrayList<>(entries.size());
            entries.forEach((k, v) -> sent.add(redis.setex(redisKey(k), ttlSeconds, encode(v))));
            return sent;
        });
    }

    static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    static float[] decode(byte[] bytes) {
        float[] v = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }
}
