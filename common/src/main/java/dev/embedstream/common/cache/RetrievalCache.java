package dev.embedstream.common.cache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.embedstream.common.Hashing;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Hit;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Query answers cached by tenant, collection epoch, model fingerprint, normalised text, top_k and
 * canonical filter: L1 in the JVM (bounded by bytes), L2 in Redis with a TTL.
 *
 * <p>An answer is only looked up under the tenant's current epoch, which is read from Redis and
 * trusted for at most {@code cache.retrieval.epoch-refresh}; the sink bumps the epoch after each
 * committed write. So no answer is older than the last committed write plus that interval. When
 * the epoch cannot be read (Redis down), nothing is served from either level: an L1 entry alone
 * cannot tell whether a write happened since.
 */
public final class RetrievalCache {

    private static final TypeReference<List<Hit>> HITS = new TypeReference<>() {};

    private final RedisLink link;
    private final CollectionEpochs epochs;
    private final String prefix;
    private final String fingerprint;
    private final long ttlSeconds;
    private final Cache<String, Long> freshEpochs;
    private final Cache<String, List<Hit>> l1;

    public RetrievalCache(RedisLink link, String collection, String fingerprint, Duration ttl,
            Duration epochRefresh, long l1MaxBytes) {
        this.link = link;
        this.epochs = new CollectionEpochs(link, collection);
        this.prefix = "embedstream:ret:" + collection + ":";
        this.fingerprint = fingerprint;
        this.ttlSeconds = Math.max(1, ttl.toSeconds());
        this.freshEpochs = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(epochRefresh).build();
        this.l1 = l1MaxBytes > 0 ? JvmCaches.get("answers", l1MaxBytes, RetrievalCache::weight) : null;
    }

    static int weight(String key, List<Hit> hits) {
        int w = JvmCaches.bytes(key) + 64;
        for (Hit h : hits) {
            w += 64 + JvmCaches.bytes(h.docId()) + (h.text() == null ? 0 : JvmCaches.bytes(h.text()))
                    + (h.metadata() == null ? 0 : 48 * h.metadata().size());
        }
        return w;
    }

    /** The epoch of a tenant if it was read within the refresh interval; no Redis call. */
    public Long freshEpoch(String tenant) {
        return freshEpochs.getIfPresent(tenant);
    }

    /**
     * Current epochs of {@code tenants}: fresh ones from memory, the rest in one MGET. A tenant
     * whose epoch cannot be read is absent (its answers are neither served nor stored).
     */
    public Map<String, Long> epochs(Collection<String> tenants) {
        Map<String, Long> out = new HashMap<>();
        List<String> stale = new ArrayList<>();
        for (String t : new LinkedHashSet<>(tenants)) {
            Long e = freshEpochs.getIfPresent(t);
            if (e != null) {
                out.put(t, e);
            } else {
                stale.add(t);
            }
        }
        epochs.read(stale).ifPresent(read -> {
            freshEpochs.putAll(read);
            out.putAll(read);
        });
        return out;
    }

    /**
     * The cache key of a query answer at a given epoch:
     * {@code embedstream:ret:<collection>:<tenant>:<epoch>:<digest of model, top_k and filter>:<sha256 of
     * the normalised text>}. Everything before the last colon is the query's group (see
     * {@link SemanticCache}).
     */
    public String key(String tenant, long epoch, String text, int topK, String canonicalFilter) {
        String shape = Hashing.sha256Hex(fingerprint + "\n" + topK + "\n" + canonicalFilter).substring(0, 32);
        return prefix + tenant + ":" + epoch + ":" + shape + ":" + CacheKeys.textDigest(text);
    }

    /** The answer in L1, or null. */
    public List<Hit> getL1(String key) {
        return l1 == null ? null : l1.getIfPresent(key);
    }

    /** Answers for those of {@code keys} in L1 or, for the rest, in Redis (one MGET). */
    public Map<String, List<Hit>> getAll(List<String> keys) {
        Map<String, List<Hit>> found = new HashMap<>();
        List<String> misses = new ArrayList<>();
        for (String k : keys) {
            List<Hit> hits = getL1(k);
            if (hits != null) {
                found.put(k, hits);
            } else {
                misses.add(k);
            }
        }
        if (misses.isEmpty()) {
            return found;
        }
        byte[][] redisKeys = new byte[misses.size()][];
        for (int i = 0; i < redisKeys.length; i++) {
            redisKeys[i] = misses.get(i).getBytes(StandardCharsets.UTF_8);
        }
        Optional<List<KeyValue<byte[], byte[]>>> values = link.call("answer lookup", redis -> redis.mget(redisKeys));
        values.ifPresent(vs -> {
            for (int i = 0; i < vs.size(); i++) {
                List<Hit> hits = vs.get(i).hasValue() ? decode(vs.get(i).getValue()) : null;
                if (hits != null) {
                    found.put(misses.get(i), hits);
                    if (l1 != null) {
                        l1.put(misses.get(i), hits);
                    }
                }
            }
        });
        return found;
    }

    /** Stores an answer in L1 and, without waiting, in Redis with the TTL. */
    public void put(String key, List<Hit> hits) {
        if (l1 != null) {
            l1.put(key, hits);
        }
        byte[] value = Json.write(hits).getBytes(StandardCharsets.UTF_8);
        link.send("answer write", redis -> {
            List<RedisFuture<?>> sent = new ArrayList<>(1);
            sent.add(redis.setex(key.getBytes(StandardCharsets.UTF_8), ttlSeconds, value));
            return sent;
        });
    }

    /** An entry that does not read back (another version wrote it) is a miss. */
    private static List<Hit> decode(byte[] json) {
        try {
            return List.copyOf(Json.mapper().readValue(json, HITS));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
