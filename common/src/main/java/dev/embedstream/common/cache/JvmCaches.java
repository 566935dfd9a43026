package dev.embedstream.common.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Weigher;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The in-process (L1) caches: one Caffeine cache per name in this JVM, bounded by an estimate of
 * its entries' heap bytes (and, for answers, by age), shared by every subtask of the TaskManager.
 * Asking again with another bound replaces the cache (a new job with new settings).
 */
final class JvmCaches {

    private record Sized(Cache<?, ?> cache, long maxBytes, Duration ttl) {}

    private static final Map<String, Sized> CACHES = new HashMap<>();

    private JvmCaches() {}

    /** A cache bounded by bytes only (entries that cannot go stale: embeddings). */
    static <K, V> Cache<K, V> get(String name, long maxBytes, Weigher<K, V> weigher) {
        return get(name, maxBytes, null, weigher);
    }

    /** @param ttl how long an entry lives after it was written, or null for no age bound */
    @SuppressWarnings("unchecked")
    static synchronized <K, V> Cache<K, V> get(String name, long maxBytes, Duration ttl, Weigher<K, V> weigher) {
        Sized s = CACHES.get(name);
        if (s == null || s.maxBytes() != maxBytes || !java.util.Objects.equals(s.ttl(), ttl)) {
            Caffeine<K, V> b = Caffeine.newBuilder().maximumWeight(maxBytes).weigher(weigher);
            if (ttl != null) {
                b = b.expireAfterWrite(ttl);
            }
            s = new Sized(b.build(), maxBytes, ttl);
            CACHES.put(name, s);
        }
        return (Cache<K, V>) s.cache();
    }

    /** Heap bytes of a string, roughly (Latin-1 compact strings are smaller; this errs high). */
    static int bytes(String s) {
        return 40 + 2 * s.length();
    }
}
