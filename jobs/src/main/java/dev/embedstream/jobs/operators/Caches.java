package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.jobs.settings.CacheSettings;
import java.time.Duration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The caches one operator uses, built in {@code open()}, and the one place any cache of the job
 * is built: one Redis connection (when {@code redis.uri} is set), the two-level embedding cache
 * for the embedding operators, and the retrieval and semantic caches for the query path. Every
 * cache gets the model fingerprint from the operator's {@link EmbedderFactory}, so the search
 * operator's caches key answers exactly as the query embedder's do. Registers the cache metrics
 * under {@code embedstream}: {@code cache_hits}, {@code cache_misses} and {@code cache_corrupt}
 * (malformed values read from Redis, each also a miss: embedding_l2 counts vectors, retrieval
 * answers and epochs) labelled {@code cache} = embedding_l1, embedding_l2, retrieval or semantic,
 * all registered at zero by the embedding operators (the search only writes, so it counts no
 * lookups), and for every operator {@code redisBreakerOpen} (1 while the breaker is open or
 * half-open) and {@code redisMicros}.
 */
final class Caches implements AutoCloseable {

    /** Hit, miss and corrupt-value counters of one cache level. */
    record Level(Counter hits, Counter misses, Counter corrupt) {
        static Level of(MetricGroup group, String name) {
            MetricGroup g = group.addGroup("cache", name);
            return new Level(g.counter("hits"), g.counter("misses"), g.counter("corrupt"));
        }

        void count(int hit, int miss) {
            hits.inc(hit);
            misses.inc(miss);
        }
    }

    final RedisLink redis;
    /** Null for the search operator. */
    final EmbeddingCache embeddings;
    /** Null when the retrieval cache is off or there is no Redis. */
    final RetrievalCache answers;
    /** Null unless the semantic cache is on (and there is a retrieval cache). */
    final SemanticCache semantic;
    /** Lookup counters; null for the search operator, which looks nothing up. */
    final Level l1;
    final Level l2;
    final Level retrieval;
    final Level near;

    private Caches(RedisLink redis, EmbeddingCache embeddings, RetrievalCache answers, SemanticCache semantic,
            MetricGroup group) {
        this.redis = redis;
        this.embeddings = embeddings;
        this.answers = answers;
        this.semantic = semantic;
        boolean looksUp = embeddings != null;
        l1 = looksUp ? Level.of(group, "embedding_l1") : null;
        l2 = looksUp ? Level.of(group, "embedding_l2") : null;
        retrieval = looksUp ? Level.of(group, "retrieval") : null;
        near = looksUp ? Level.of(group, "semantic") : null;
        if (looksUp) {
            embeddings.onCorrupt(n -> l2.corrupt().inc(n));
            if (answers != null) {
                answers.onCorrupt(n -> retrieval.corrupt().inc(n));
            }
        }
        group.gauge("redisBreakerOpen", () -> redis != null && !redis.breakerClosed() ? 1 : 0);
        var micros = group.histogram("redisMicros", new DescriptiveStatisticsHistogram(1000));
        if (redis != null) {
            redis.onLatency(micros::update);
        }
    }

    /**
     * The caches of an embedding operator: the embedding cache, and with {@code answersOf} (the
     * query path) the retrieval and semantic caches it looks answers up in.
     *
     * @param fingerprint the model's, for cache keys
     * @param dimension the model's, the only vector length read from Redis
     * @param answersOf the collection whose answers are looked up (the query path), or null
     * @param group the operator's {@code embedstream} metric group
     */
    static Caches forEmbedding(CacheSettings s, String fingerprint, int dimension, String answersOf, MetricGroup group) {
        RedisLink redis = s.redisUri() == null ? null : s.redisLink("cache");
        RedisEmbeddingCache l2 = redis == null ? null
                : new RedisEmbeddingCache(redis, fingerprint, dimension, Duration.ofMillis(s.embeddingTtlMs()));
        EmbeddingCache embeddings = new EmbeddingCache(fingerprint, s.embeddingL1Bytes(), l2);
        RetrievalCache answers = answersOf != null ? answers(s, redis, answersOf, fingerprint) : null;
        return new Caches(redis, embeddings, answers, semantic(s, answers), group);
    }

    /**
     * The caches of the search operator: the retrieval and semantic caches it stores answers in,
     * under the keys the query embedder gave the queries; no embedding cache (it embeds nothing).
     * Without the retrieval cache (off, or no Redis) there is nothing to build, not even a link.
     *
     * @param collection the collection searched, part of the answers' keys
     * @param fingerprint the model's, the same the query embedder keys with
     */
    static Caches forSearch(CacheSettings s, String collection, String fingerprint, MetricGroup group) {
        RedisLink redis = s.retrievalCacheOn() ? s.redisLink("answers") : null;
        RetrievalCache answers = answers(s, redis, collection, fingerprint);
        return new Caches(redis, null, answers, semantic(s, answers), group);
    }

    /** The retrieval cache, or null when it is off or there is no Redis (its epochs live there). */
    private static RetrievalCache answers(CacheSettings s, RedisLink redis, String collection, String fingerprint) {
        return redis != null && s.retrievalCacheOn()
                ? new RetrievalCache(redis, collection, fingerprint, Duration.ofMillis(s.retrievalTtlMs()),
                        Duration.ofMillis(s.epochRefreshMs()), s.retrievalL1Bytes())
                : null;
    }

    /** The semantic cache, only beside a retrieval cache: its groups are retrieval keys. */
    private static SemanticCache semantic(CacheSettings s, RetrievalCache answers) {
        return answers != null && s.semanticCacheOn()
                ? new SemanticCache(s.semanticThreshold(), s.semanticBytes(), Duration.ofMillis(s.retrievalTtlMs()))
                : null;
    }

    @Override
    public void close() {
        if (redis != null) {
            redis.close();
        }
    }
}
