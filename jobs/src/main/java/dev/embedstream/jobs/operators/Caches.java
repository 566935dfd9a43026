package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.jobs.JobSettings;
import java.time.Duration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The caches one operator uses, built in {@code open()}: one Redis connection (when
 * {@code redis.uri} is set), the two-level embedding cache and, for the query path, the retrieval
 * cache. Registers the cache metrics under {@code embedstream}: {@code cache_hits},
 * {@code cache_misses} and {@code cache_corrupt} (malformed values read from Redis, each also a
 * miss: embedding_l2 counts vectors, retrieval answers and epochs) labelled {@code cache} =
 * embedding_l1, embedding_l2, retrieval or semantic, all registered at zero,
 * {@code redisBreakerOpen} (1 while the breaker is open or half-open) and {@code redisMicros}.
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
    final EmbeddingCache embeddings;
    final RetrievalCache answers;
    final SemanticCache semantic;
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
        l1 = Level.of(group, "embedding_l1");
        l2 = Level.of(group, "embedding_l2");
        retrieval = Level.of(group, "retrieval");
        near = Level.of(group, "semantic");
        embeddings.onCorrupt(n -> l2.corrupt().inc(n));
        if (answers != null) {
            answers.onCorrupt(n -> retrieval.corrupt().inc(n));
        }
        group.gauge("redisBreakerOpen", () -> redis != null && !redis.breakerClosed() ? 1 : 0);
        var micros = group.histogram("redisMicros", new DescriptiveStatisticsHistogram(1000));
        if (redis != null) {
            redis.onLatency(micros::update);
        }
    }

    /**
     * @param fingerprint the model's, for cache keys
     * @param dimension the model's, the only vector length read from Redis
     * @param withAnswers whether this operator reads or writes the retrieval cache
     * @param group the operator's {@code embedstream} metric group
     */
    static Caches open(JobSettings s, String fingerprint, int dimension, boolean withAnswers, MetricGroup group) {
        RedisLink redis = s.redisUri() == null ? null
                : s.redisLink("cache");
        RedisEmbeddingCache l2 = redis == null ? null
                : new RedisEmbeddingCache(redis, fingerprint, dimension, Duration.ofMillis(s.embeddingCacheTtlMs()));
        EmbeddingCache embeddings = new EmbeddingCache(fingerprint, s.embeddingL1Bytes(), l2);
        RetrievalCache answers = withAnswers && s.retrievalCacheOn()
                ? new RetrievalCache(redis, s.milvus().collection(), fingerprint, Duration.ofMillis(s.retrievalCacheTtlMs()),
                        Duration.ofMillis(s.epochRefreshMs()), s.retrievalL1Bytes())
                : null;
        SemanticCache semantic = answers != null && s.semanticCacheOn()
                ? new SemanticCache(s.semanticThreshold(), s.semanticCacheBytes(), Duration.ofMillis(s.retrievalCacheTtlMs())) : null;
        return new Caches(redis, embeddings, answers, semantic, group);
    }

    @Override
    public void close() {
        if (redis != null) {
            redis.close();
        }
    }
}
