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
import java.util.function.IntConsumer;

/**
 * The Redis level (L2) of the embedding cache. Keys are
 * {@code embedstream:emb:<model fingerprint>:<tenant>:<sha256 of the normalised text>}; values are
 * the vector as raw little-endian float32 (4 bytes a dimension), written with SETEX and a TTL.
 * Lookups are one MGET per batch. It fails open through its {@link RedisLink}: a failed lookup
 * is a miss, a failed write is dropped. A value is not trusted: one that is not exactly the
 * model's dimension times 4 bytes, or holds a NaN or an infinity, is a miss, counted as corrupt.
 */
public final class RedisEmbeddingCache {

    private final RedisLink link;
    private final String prefix;
    private final int dimension;
    private final long ttlSeconds;
    private volatile IntConsumer onCorrupt = n -> { };

    /** @param dimension the model's: the only vector length read back or written */
    public RedisEmbeddingCache(RedisLink link, String fingerprint, int dimension, Duration ttl) {
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be positive, got " + dimension);
        }
        this.link = link;
        this.prefix = "embedstream:emb:" + fingerprint + ":";
        this.dimension = dimension;
        this.ttlSeconds = Math.max(1, ttl.toSeconds());
    }

    /** Told how many malformed values a lookup met. */
    public void onCorrupt(IntConsumer count) {
        this.onCorrupt = count;
    }

    byte[] redisKey(EmbeddingCache.Key k) {
        return (prefix + k.tenant() + ":" + k.digest()).getBytes(StandardCharsets.UTF_8);
    }

    /** Vectors found for {@code keys}; anything missing or malformed, or a Redis failure, is a miss. */
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
            int corrupt = 0;
            for (int i = 0; i < values.size() && i < keys.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                if (kv.hasValue()) {
                    float[] v = decode(kv.getValue(), dimension);
                    if (v == null) {
                        corrupt++;
                    } else {
                        hits.put(keys.get(i), v);
                    }
                }
            }
            if (corrupt > 0) {
                onCorrupt.accept(corrupt);
            }
        });
        return hits;
    }

    /** Stores vectors with the TTL, without waiting for Redis to confirm; one that would not read back is not written. */
    public void putAll(Map<EmbeddingCache.Key, float[]> entries) {
        List<Map.Entry<EmbeddingCache.Key, float[]>> valid = new ArrayList<>(entries.size());
        for (Map.Entry<EmbeddingCache.Key, float[]> e : entries.entrySet()) {
            if (wellFormed(e.getValue(), dimension)) {
                valid.add(e);
            }
        }
        if (valid.isEmpty()) {
            return;
        }
        link.send("embedding write-back", redis -> {
            List<RedisFuture<?>> sent = new ArrayList<>(valid.size());
            for (Map.Entry<EmbeddingCache.Key, float[]> e : valid) {
                sent.add(redis.setex(redisKey(e.getKey()), ttlSeconds, encode(e.getValue())));
            }
            return sent;
        });
    }

    static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    /** The vector, or null unless {@code bytes} are exactly {@code dimension} finite float32s. */
    static float[] decode(byte[] bytes, int dimension) {
        if (bytes.length != dimension * 4) {
            return null;
        }
        float[] v = new float[dimension];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return wellFormed(v, dimension) ? v : null;
    }

    static boolean wellFormed(float[] v, int dimension) {
        if (v == null || v.length != dimension) {
            return false;
        }
        for (float f : v) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }
}
