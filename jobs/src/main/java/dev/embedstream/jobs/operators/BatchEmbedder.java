package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.embed.Embedder;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ObjDoubleConsumer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * The model side shared by the document and query embedding operators: the embedding cache first
 * (L1 in the JVM, then Redis with one MGET per batch for the misses of L1), then one inference
 * over the distinct texts that missed, written back to both levels. Texts are normalised
 * ({@link dev.embedstream.common.cache.CacheKeys}) before the cache and the model see them. One per
 * subtask, built in {@code open()}; not thread-safe.
 */
final class BatchEmbedder implements AutoCloseable {

    private final ModelSettings model;
    private final Embedder embedder;
    private final Caches caches;
    private final ObjDoubleConsumer<Long> costListener;
    private final Counter batches;
    private final Counter textsEmbedded;
    private final Counter duplicateTexts;
    private final Counter paddedTokens;
    private final Counter realTokens;
    private final Counter modelMillisTotal;
    private final Histogram batchSize;
    private final Histogram batchPaddedTokens;
    private final Histogram paddingPercent;
    private final Histogram modelMillis;

    /**
     * @param answersOf the collection whose answers the operator also looks up in the retrieval
     *     cache (the query path), or null (the document path)
     * @param costListener told (padded tokens, milliseconds) of every inference
     */
    BatchEmbedder(ModelSettings model, CacheSettings cache, String answersOf, EmbedderFactory factory, MetricGroup group,
            ObjDoubleConsumer<Long> costListener) {
        this.model = model;
        this.embedder = factory.open();
        this.caches = Caches.forEmbedding(cache, embedder.fingerprint(), embedder.dimension(), answersOf, group);
        this.costListener = costListener;
        batches = group.counter("batches");
        textsEmbedded = group.counter("textsEmbedded");
        duplicateTexts = group.counter("batchDuplicateTexts");
        // Sums, so a dashboard or the benchmark can take rates: mean batch size and padding share
        // over any interval, which the histograms (last 1,000 batches) cannot give.
        paddedTokens = group.counter("batchTokensPadded");
        realTokens = group.counter("batchTokensReal");
        modelMillisTotal = group.counter("modelMillisTotal");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        batchPaddedTokens = group.histogram("batchPaddedTokens", new DescriptiveStatisticsHistogram(1000));
        paddingPercent = group.histogram("batchPaddingPercent", new DescriptiveStatisticsHistogram(1000));
        modelMillis = group.histogram("modelMillisPerBatch", new DescriptiveStatisticsHistogram(1000));
    }

    Caches caches() {
        return caches;
    }

    /** The length of this model's vectors. */
    int dimension() {
        return embedder.dimension();
    }

    /** The vector in the in-process cache, counted as an L1 hit, or null (not counted: the batch looks again). */
    float[] cachedInJvm(EmbeddingCache.Key key) {
        float[] v = caches.embeddings.getL1(key);
        if (v != null) {
            caches.l1.count(1, 0);
        }
        return v;
    }

    /** A vector per key, in order: from the caches where they have one, else from the model. */
    float[][] embed(List<EmbeddingCache.Key> keys, List<Integer> tokens) {
        Map<EmbeddingCache.Key, Integer> distinct = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            if (distinct.putIfAbsent(keys.get(i), tokens.get(i)) != null) {
                duplicateTexts.inc();
            }
        }
        EmbeddingCache.Found found = caches.embeddings.getAll(List.copyOf(distinct.keySet()));
        int afterL1 = distinct.size() - found.l1Hits();
        if (caches.embeddings.hasL1()) {
            caches.l1.count(found.l1Hits(), afterL1);
        }
        if (caches.embeddings.hasL2()) {
            caches.l2.count(found.l2Hits(), afterL1 - found.l2Hits());
        }
        Map<String, Integer> missing = new HashMap<>();
        distinct.forEach((k, t) -> {
            if (!found.vectors().containsKey(k)) {
                missing.merge(k.text(), t, Math::max);
            }
        });
        Map<String, float[]> computed = infer(missing);
        Map<EmbeddingCache.Key, float[]> writeBack = new HashMap<>();
        float[][] out = new float[keys.size()][];
        for (int i = 0; i < keys.size(); i++) {
            EmbeddingCache.Key k = keys.get(i);
            out[i] = found.vectors().get(k);
            if (out[i] == null) {
                out[i] = computed.get(k.text());
                writeBack.put(k, out[i]);
            }
        }
        caches.embeddings.putAll(writeBack);
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
            int n = Math.min(tokensByText.get(t), model.maxTokens());
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
        paddedTokens.inc(padded);
        realTokens.inc(real);
        modelMillisTotal.inc(Math.round(millis));
        paddingPercent.update(Math.round(100.0 * (padded - real) / padded));
        for (int k = 0; k < texts.size(); k++) {
            vectors.put(texts.get(k), v[k]);
        }
        return vectors;
    }

    @Override
    public void close() {
        caches.close();
        embedder.close();
    }
}
