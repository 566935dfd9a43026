package dev.embedstream.common.cache;

import com.github.benmanes.caffeine.cache.Cache;
import dev.embedstream.common.Hashing;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedding cache in two levels: L1 in the JVM (Caffeine, one per TaskManager and shared by
 * its subtasks, bounded by bytes) and L2 in Redis ({@link RedisEmbeddingCache}, optional). A
 * lookup asks L1 first, then Redis for the misses of L1 in one MGET; Redis hits are copied into
 * L1 once they are validated (dimension, finite values: see {@link RedisEmbeddingCache}). New
 * vectors are written to both. Keys of both levels hold the model fingerprint, the tenant and the
 * sha256 of the normalised text ({@link CacheKeys}), so no tenant reads another's entry.
 */
public final class EmbeddingCache {

    /**
     * A text of a tenant: {@code text} is normalised and {@code digest} is its sha256, computed
     * once here so neither level hashes the text again.
     */
    public record Key(String tenant, String text, String digest) {
        /** For a text that is already normalised. */
        public Key(String tenant, String text) {
            this(tenant, text, Hashing.sha256Hex(text));
        }

        public static Key of(String tenant, String rawText) {
            return new Key(tenant, CacheKeys.normalise(rawText));
        }
    }

    private record L1Key(String fingerprint, String tenant, String digest) {}

    /** Hits of one lookup, and at which level they were found. */
    public record Found(Map<Key, float[]> vectors, int l1Hits, int l2Hits) {}

    private final String fingerprint;
    private final Cache<L1Key, float[]> l1;
    private final RedisEmbeddingCache l2;

    /**
     * @param l1MaxBytes bound of this JVM's L1 (0 = no L1); the first caller in a JVM sizes it
     * @param l2 the Redis level, or null
     */
    public EmbeddingCache(String fingerprint, long l1MaxBytes, RedisEmbeddingCache l2) {
        this.fingerprint = fingerprint;
        this.l1 = l1MaxBytes > 0 ? JvmCaches.get("embeddings", l1MaxBytes, EmbeddingCache::weight) : null;
        this.l2 = l2;
    }

    /** Approximate heap bytes of an entry: the key's strings and the float array with headers. */
    static int weight(L1Key k, float[] v) {
        return 32 + JvmCaches.bytes(k.fingerprint()) + JvmCaches.bytes(k.tenant()) + JvmCaches.bytes(k.digest()) + 16 + 4 * v.length;
    }

    /** Estimated bytes held by this JVM's L1 (after pending evictions); 0 without an L1. */
    public long l1Bytes() {
        if (l1 == null) {
            return 0;
        }
        l1.cleanUp();
        return l1.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
    }

    public long l1Entries() {
        return l1 == null ? 0 : l1.estimatedSize();
    }

    public boolean hasL1() {
        return l1 != null;
    }

    public boolean hasL2() {
        return l2 != null;
    }

    /** Told how many malformed Redis values a lookup met (they are misses); no-op without Redis. */
    public void onCorrupt(java.util.function.IntConsumer count) {
        if (l2 != null) {
            l2.onCorrupt(count);
        }
    }

    private L1Key l1Key(Key k) {
        return new L1Key(fingerprint, k.tenant(), k.digest());
    }

    /** The vector in L1, or null. */
    public float[] getL1(Key key) {
        return l1 == null ? null : l1.getIfPresent(l1Key(key));
    }

    /** Vectors for those of {@code keys} (distinct) found in L1 or, for the rest, in Redis. */
    public Found getAll(List<Key> keys) {
        Map<Key, float[]> found = new HashMap<>();
        List<Key> l1Misses = new ArrayList<>();
        for (Key k : keys) {
            float[] v = getL1(k);
            if (v != null) {
                found.put(k, v);
            } else {
                l1Misses.add(k);
            }
        }
        int l1Hits = found.size();
        int l2Hits = 0;
        if (l2 != null && !l1Misses.isEmpty()) {
            Map<Key, float[]> fromRedis = l2.getAll(l1Misses);
            l2Hits = fromRedis.size();
            if (l1 != null) {
                fromRedis.forEach((k, v) -> l1.put(l1Key(k), v));
            }
            found.putAll(fromRedis);
        }
        return new Found(found, l1Hits, l2Hits);
    }

    /** Stores new vectors in L1 and, without waiting, in Redis. */
    public void putAll(Map<Key, float[]> vectors) {
        if (vectors.isEmpty()) {
            return;
        }
        if (l1 != null) {
            vectors.forEach((k, v) -> l1.put(l1Key(k), v));
        }
        if (l2 != null) {
            l2.putAll(vectors);
        }
    }
}
