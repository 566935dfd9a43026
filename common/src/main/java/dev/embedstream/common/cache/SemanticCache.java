package dev.embedstream.common.cache;

import com.github.benmanes.caffeine.cache.Cache;
import dev.embedstream.common.model.Hit;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Reuses an answer for a query whose embedding is within a cosine threshold of an earlier query
 * with the same tenant, collection epoch, model, top_k and filter (its "group", the retrieval
 * key without the text). In-process only: per group a ring of the most recent
 * {@link #PER_GROUP} (vector, answer) pairs, scanned linearly (vectors are unit length, so the
 * cosine is a dot product); groups live in one Caffeine cache per JVM bounded by bytes. Off by
 * default: a near-identical embedding is not always the same question (see the README for the
 * false-hit rate measured on negations and swapped entities).
 */
public final class SemanticCache {

    public static final int PER_GROUP = 256;

    private record Entry(float[] vector, List<Hit> hits) {}

    private static final class Ring {
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        int bytes;
    }

    private final double threshold;
    private final Cache<String, Ring> groups;

    public SemanticCache(double threshold, long maxBytes) {
        this.threshold = threshold;
        this.groups = JvmCaches.get("semantic", maxBytes, (String k, Ring r) -> JvmCaches.bytes(k) + r.bytes);
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
        synchronized (ring) {
            double best = threshold;
            List<Hit> answer = null;
            for (Entry e : ring.entries) {
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
            ring.entries.addLast(new Entry(vector, hits));
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
