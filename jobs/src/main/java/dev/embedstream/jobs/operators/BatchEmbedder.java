package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.common.embed.Embedder;
import dev.embedstream.jobs.JobSettings;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ObjDoubleConsumer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The model side shared by the document and query embedding operators: the Redis cache first (one
 * MGET per batch), then one inference over the distinct texts that missed, written back to the
 * cache. One per subtask, built in {@code open()}; not thread-safe.
 */
final class BatchEmbedder implements AutoCloseable {

    private final JobSettings settings;
    private final Embedder embedder;
    private final RedisEmbeddingCache cache;
    private final ObjDoubleConsumer<Long> costListener;
    private final Counter batches;
    private final Counter textsEmbedded;
    private final Counter duplicateTexts;
    private final Counter cacheHits;
    private final Counter cacheMisses;
    private final Histogram batchSize;
    private final Histogram batchPaddedTokens;
    private final Histogram paddingPercent;
    private final Histogram modelMillis;

    /** @param costListener told (padded tokens, milliseconds) of every inference */
    BatchEmbedder(JobSettings settings, EmbedderFactory factory, MetricGroup group, ObjDoubleConsumer<Long> costListener) {
        this.settings = settings;
        this.embedder = factory.open();
        this.cache = settings.redisUri() == null ? null
                : new RedisEmbeddingCache(settings.redisUri(), embedder.fingerprint(),
                        Duration.ofMillis(settings.embeddingCacheTtlMs()), Duration.ofMillis(settings.redisTimeoutMs()));
        this.costListener = costListener;
        batches = group.counter("batches");
        textsEmbedded = group.counter("textsEmbedded");
        duplicateTexts = group.counter("batchDuplicateTexts");
        cacheHits = group.counter("embeddingCacheHits");
        cacheMisses = group.counter("embeddingCacheMisses");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        batchPaddedTokens = group.histogram("batchPaddedTokens", new DescriptiveStatisticsHistogram(1000));
        paddingPercent = group.histogram("batchPaddingPercent", new DescriptiveStatisticsHistogram(1000));
        modelMillis = group.histogram("modelMillisPerBatch", new DescriptiveStatisticsHistogram(1000));
        group.gauge("embeddingCacheBreakerOpen",
                () -> cache != null && cache.breakerState() != CircuitBreaker.State.CLOSED ? 1 : 0);
    }

    /** A vector per key, in order: from the cache where it has one, else from the model. */
    float[][] embed(List<RedisEmbeddingCache.Key> keys, List<Integer> tokens) {
        Map<RedisEmbeddingCache.Key, float[]> found = cache == null
                ? new HashMap<>()
                : cache.getAll(keys.stream().distinct().toList());
        Map<String, Integer> missing = new HashMap<>();
        int misses = 0;
        for (int i = 0; i < keys.size(); i++) {
            if (found.containsKey(keys.get(i))) {
                continue;
            }
            misses++;
            if (missing.putIfAbsent(keys.get(i).text(), tokens.get(i)) != null) {
                duplicateTexts.inc();
            }
        }
        cacheHits.inc(keys.size() - misses);
        cacheMisses.inc(misses);
        Map<String, float[]> computed = infer(missing);
        Map<RedisEmbeddingCache.Key, float[]> writeBack = new HashMap<>();
        float[][] out = new float[keys.size()][];
        for (int i = 0; i < keys.size(); i++) {
            RedisEmbeddingCache.Key k = keys.get(i);
            out[i] = found.get(k);
            if (out[i] == null) {
                out[i] = computed.get(k.text());
                writeBack.put(k, out[i]);
            }
        }
        if (cache != null) {
            cache.putAll(writeBack);
        }
        return out;
    }

    /** One inference over distinct texts, shortest first. */
    private Map<String, float[]> infer(Map<String, Integer> tokensByText) {
        Map<String, float[]> vectors = new HashMap<>();
        if (tokensByText.isEmpty()) {
            return vectors;
        }
        List<String> texts = new ArrayList<>(tokensByText.keySet());
        texts.sort(Comparator.comparingInt(tokensByText::get));
        long real = 0;
        int longest = 0;
        for (String t : texts) {
            int n = Math.min(tokensByText.get(t), settings.modelMaxTokens());
            real += n;
            longest = Math.max(longest, n);
        }
        long padded = (long) longest * texts.size();
        long t0 = System.nanoTime();
        float[][] v = embedder.embed(texts);
        double millis = (System.nanoTime() - t0) / 1e6;
        costListener.accept(padded, millis);
        modelMillis.update(Math.round(millis));
        batches.inc();
        textsEmbedded.inc(texts.size());
        batchSize.update(texts.size());
        batchPaddedTokens.update(padded);
        paddingPercent.update(Math.round(100.0 * (padded - real) / padded));
        for (int k = 0; k < texts.size(); k++) {
            vectors.put(texts.get(k), v[k]);
        }
        return vectors;
    }

    @Override
    public void close() {
        if (cache != null) {
            cache.close();
        }
        embedder.close();
    }
}
