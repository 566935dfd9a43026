package dev.embedstream.common.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.embedstream.common.Hashing;
import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Retrieval;
import dev.embedstream.common.validation.QueryParser;
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
import java.util.function.IntConsumer;

/**
 * Query answers cached by tenant, collection epoch, model fingerprint, normalised text, top_k and
 * canonical filter: L1 in the JVM (bounded by bytes and by age), L2 in Redis; both levels keep an
 * answer at most {@code cache.retrieval.ttl}.
 *
 * <p>An answer is only looked up under the tenant's current epoch ({@link CollectionEpochs}: a
 * generation plus a counter, never a value it had before, also after Redis lost its data), which
 * is read from Redis and trusted for at most {@code cache.retrieval.epoch-refresh}; the sink bumps
 * the epoch after each committed write. So no answer is older than the last committed write plus
 * that interval. When the epoch cannot be read (Redis down, a malformed value), nothing is served
 * from either level: an L1 entry alone cannot tell whether a write happened since.
 *
 * <p>Redis values are not trusted: an answer is stored with the key it was stored under, and one
 * that does not parse, is over {@link #MAX_VALUE_BYTES}, names another key or holds a hit that is
 * not well formed is a miss, counted as corrupt, never an exception.
 */
public final class RetrievalCache {

    /** A stored answer longer than this is not read (a top_k of 100 with large texts stays well under). */
    public static final int MAX_VALUE_BYTES = 8 << 20;

    /** What Redis holds: the answer and the key it belongs to, so a value copied elsewhere is refused. */
    record Stored(String key, List<Hit> hits) {}

    private final RedisLink link;
    private final CollectionEpochs epochs;
    private final String prefix;
    private final String fingerprint;
    private final long ttlMillis;
    private final Cache<String, Epoch> freshEpochs;
    private final Cache<String, List<Hit>> l1;
    private volatile IntConsumer onCorrupt = n -> { };

    /**
     * @param ttl how long an answer lives, in Redis and in L1
     * @param l1MaxBytes bound of this JVM's L1 (0 = no L1); the first caller in a JVM sizes it
     */
    public RetrievalCache(RedisLink link, String collection, String fingerprint, Duration ttl,
            Duration epochRefresh, long l1MaxBytes) {
        this.link = link;
        this.epochs = new CollectionEpochs(link, collection);
        this.prefix = "embedstream:ret:" + collection + ":";
        this.fingerprint = fingerprint;
        this.ttlMillis = Math.max(1, ttl.toMillis());
        this.freshEpochs = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(epochRefresh).build();
        this.l1 = l1MaxBytes > 0
                ? JvmCaches.get("answers", l1MaxBytes, Duration.ofMillis(ttlMillis), RetrievalCache::weight)
                : null;
    }

    /** Told how many malformed values (answers or epochs) a lookup met. */
    public void onCorrupt(IntConsumer count) {
        this.onCorrupt = count;
        epochs.onCorrupt(count);
    }

    static int weight(String key, List<Hit> hits) {
        int w = JvmCaches.bytes(key) + 64;
        for (Hit h : hits) {
            w += 64 + JvmCaches.bytes(h.docId()) + (h.text() == null ? 0 : JvmCaches.bytes(h.text()))
                    + (h.metadata() == null ? 0 : metadataWeight(h.metadata()));
        }
        return w;
    }

    /** Metadata string values may be kilobytes each: weigh them, not only the keys. */
    private static int metadataWeight(Map<String, Object> metadata) {
        int w = 0;
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            w += 48 + JvmCaches.bytes(e.getKey()) + (e.getValue() instanceof String s ? JvmCaches.bytes(s) : 16);
        }
        return w;
    }

    /** The epoch of a tenant if it was read within the refresh interval; no Redis call. */
    public Epoch freshEpoch(String tenant) {
        return freshEpochs.getIfPresent(tenant);
    }

    /**
     * Current epochs of {@code tenants}: fresh ones from memory, the rest in one Redis call. A
     * tenant whose epoch cannot be read is absent (its answers are neither served nor stored).
     */
    public Map<String, Epoch> epochs(Collection<String> tenants) {
        Map<String, Epoch> out = new HashMap<>();
        List<String> stale = new ArrayList<>();
        for (String t : new LinkedHashSet<>(tenants)) {
            Epoch e = freshEpochs.getIfPresent(t);
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
     * Reads the tenants' epochs from Redis (one call) and trusts them for another refresh interval:
     * what keeps {@link #freshEpoch} answering for tenants asked about all the time. When Redis
     * cannot be read, the old epochs simply age out.
     */
    public void refresh(Collection<String> tenants) {
        if (!tenants.isEmpty()) {
            epochs.read(new ArrayList<>(new LinkedHashSet<>(tenants))).ifPresent(freshEpochs::putAll);
        }
    }

    /**
     * The cache key of a query answer at a given epoch:
     * {@code embedstream:ret:<collection>:<tenant>:<epoch>:<digest of model, top_k, filter and
     * retrieval>:<sha256 of the normalised text>}. Tenants, epoch tokens and digests hold no colon,
     * so the fields stay apart. Everything before the last colon is the query's group (see
     * {@link SemanticCache}). {@code retrieval} is {@link Retrieval#canonical()}: a dense answer is
     * never a hybrid or keyword one, nor one fusion another's.
     */
    public String key(String tenant, Epoch epoch, String retrieval, String text, int topK, String canonicalFilter) {
        // Dense keys are as before modes existed, so a cache filled by an earlier version still serves.
        String shape = Hashing.sha256Hex(fingerprint + "\n" + topK + "\n" + canonicalFilter
                + (retrieval.equals(Retrieval.DENSE.canonical()) ? "" : "\n" + retrieval)).substring(0, 32);
        return prefix + tenant + ":" + epoch.token() + ":" + shape + ":" + CacheKeys.textDigest(text);
    }

    /** The key of a dense query's answer. */
    public String key(String tenant, Epoch epoch, String text, int topK, String canonicalFilter) {
        return key(tenant, epoch, Retrieval.DENSE.canonical(), text, topK, canonicalFilter);
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
            int corrupt = 0;
            for (int i = 0; i < vs.size() && i < misses.size(); i++) {
                if (!vs.get(i).hasValue()) {
                    continue;
                }
                List<Hit> hits = decode(misses.get(i), vs.get(i).getValue());
                if (hits == null) {
                    corrupt++;
                    continue;
                }
                found.put(misses.get(i), hits);
                if (l1 != null) {
                    l1.put(misses.get(i), hits);
                }
            }
            if (corrupt > 0) {
                onCorrupt.accept(corrupt);
            }
        });
        return found;
    }

    /** Stores an answer in L1 and, without waiting, in Redis with the TTL. */
    public void put(String key, List<Hit> hits) {
        List<Hit> answer = List.copyOf(hits);
        if (l1 != null) {
            l1.put(key, answer);
        }
        byte[] value = Json.write(new Stored(key, answer)).getBytes(StandardCharsets.UTF_8);
        if (value.length > MAX_VALUE_BYTES) {
            return; // it would not be read back
        }
        link.send("answer write", redis -> {
            List<RedisFuture<?>> sent = new ArrayList<>(1);
            sent.add(redis.psetex(key.getBytes(StandardCharsets.UTF_8), ttlMillis, value));
            return sent;
        });
    }

    /**
     * The answer stored under {@code key}, or null when the value is not one this code wrote for
     * that key: too large, not JSON of the expected shape (another version, garbage), stored for
     * another key, or with a hit that lacks its document id or has a score that is not finite.
     */
    static List<Hit> decode(String key, byte[] json) {
        if (json.length > MAX_VALUE_BYTES) {
            return null;
        }
        Stored stored;
        try {
            stored = Json.mapper().readValue(json, Stored.class);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        if (stored == null || !key.equals(stored.key()) || stored.hits() == null
                || stored.hits().size() > QueryParser.MAX_TOP_K) {
            return null;
        }
        for (Hit h : stored.hits()) {
            if (h == null || h.docId() == null || h.docId().isEmpty() || h.chunk() < 0 || !Double.isFinite(h.score())) {
                return null;
            }
        }
        return List.copyOf(stored.hits());
    }
}
