package dev.embedstream.common.cache;

import com.github.benmanes.caffeine.cache.Cache;
import dev.embedstream.common.model.Hit;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Reuses an answer for a query whose embedding is within a cosine threshold of an earlier query
 * with the same tenant, collection epoch, model, top_k and filter (its "group", the retrieval
 * key without the text). In-process only: per group a ring of the most recent
 * {@link #PER_GROUP} (vector, answer) pairs, scanned linearly (vectors are unit length, so the
 * cosine is a dot product); groups live in one Caffeine cache per JVM bounded by bytes. An entry
 * is used for at most the answer TTL ({@code cache.retrieval.ttl}), like the retrieval cache's, and
 * a group without a new entry for that long is dropped. The group holds the tenant and the epoch,
 * so a write or a Redis that lost its data (a new epoch generation) makes every entry unreachable. Off by
 * default: a near-identical embedding is not always the same question (see the README for the
 * false-hit rate measured on negations and swapped entities).
 */
public final class SemanticCache {

    public static final int PER_GROUP = 256;

    private record Entry(float[] vector, List<Hit> hits, long storedAtNanos) {}

    private static final class Ring {
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        int bytes;
    }

    private final double threshold;
    private final long ttlNanos;
    private final Cache<String, Ring> groups;

    /** @param ttl how long an entry may be used (the answer TTL) */
    public SemanticCache(double threshold, long maxBytes, Duration ttl) {
        this.threshold = threshold;
        this.ttlNanos = Math.max(1, ttl.toNanos());
        this.groups = JvmCaches.get("semantic", maxBytes, Duration.ofNanos(ttlNanos),
                (String k, Ring r) -> JvmCaches.bytes(k) + r.bytes);
    }

    /** The group of a retrieval-cache key: everything before its text digest. */
    public static String groupOf(String answerKey) {
        return answerKey.substring(0, answerKey.lastIndexOf(':'));
    }

    /** The answer of the closest earlier query of the group at or above the threshold, or null. */
    public List<Hit> find(String group, float[] vector) {
        Ring ring = groups.getIfPresent(group);
        if (ring == null) {
            return null;
        }
        long now = System.nanoTime();
        synchronized (ring) {
            double best = threshold;
            List<Hit> answer = null;
            for (Entry e : ring.entries) {
                if (now - e.storedAtNanos() > ttlNanos) {
                    continue;
                }
                double cos = dot(e.vector(), vector);
                if (cos >= best) {
                    best = cos;
                    answer = e.hits();
                }
            }
            return answer;
        }
    }

    public void put(String group, float[] vector, List<Hit> hits) {
        Ring ring = groups.get(group, g -> new Ring());
        synchronized (ring) {
            ring.entries.addLast(new Entry(vector, hits, System.nanoTime()));
            ring.bytes += weight(vector, hits);
            if (ring.entries.size() > PER_GROUP) {
                Entry old = ring.entries.removeFirst();
                ring.bytes -= weight(old.vector(), old.hits());
            }
        }
        groups.put(group, ring); // re-weigh
    }

    private static int weight(float[] v, List<Hit> hits) {
        return 16 + 4 * v.length + RetrievalCache.weight("", hits);
    }

    static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            return -1;
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
