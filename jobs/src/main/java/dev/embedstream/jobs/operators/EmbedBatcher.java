package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.common.embed.Embedder;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.QueryTask;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Gathers texts into micro-batches in front of the model, with two lanes: document chunks (input
 * 1) and queries (input 2). A lane's batch closes on its size, its padded-token budget or its
 * maximum wait; queries are always embedded before documents, so a document backlog delays a query
 * by at most one batch. Texts whose vector is in the Redis cache skip the model; the rest are
 * sorted by token length so each inference pads little, and identical texts are embedded once. Embedded chunks leave in arrival order (deletes
 * in place); embedded queries leave through {@link #QUERIES}.
 *
 * <p>Nothing stays buffered across a checkpoint: both lanes are flushed before the barrier is
 * forwarded, so the operator needs no state and a failure loses nothing.
 */
public class EmbedBatcher extends AbstractStreamOperator<ChunkTask>
        implements TwoInputStreamOperator<ChunkTask, QueryTask, ChunkTask>, BoundedMultiInput {

    public static final OutputTag<QueryTask> QUERIES = new OutputTag<>("embedded-queries") {};

    private final JobSettings settings;
    private final EmbedderFactory embedderFactory;

    private transient Embedder embedder;
    private transient RedisEmbeddingCache cache;
    private transient ArrayDeque<ChunkTask> docs;
    private transient ArrayDeque<QueryTask> queries;
    private transient int docTokens;
    private transient boolean docTimerPending;
    private transient boolean queryTimerPending;
    private transient Counter batches;
    private transient Counter textsEmbedded;
    private transient Counter duplicateTexts;
    private transient Histogram batchSize;
    private transient Histogram batchPaddedTokens;
    private transient Histogram modelMillis;
    private transient Counter cacheHits;
    private transient Counter cacheMisses;

    public EmbedBatcher(JobSettings settings, EmbedderFactory embedderFactory) {
        this.settings = settings;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void open() throws Exception {
        super.open();
        embedder = embedderFactory.open();
        if (settings.redisUri() != null) {
            cache = new RedisEmbeddingCache(settings.redisUri(), embedder.fingerprint(),
                    Duration.ofMillis(settings.embeddingCacheTtlMs()), Duration.ofMillis(settings.redisTimeoutMs()));
        }
        docs = new ArrayDeque<>();
        queries = new ArrayDeque<>();
        var group = getMetricGroup().addGroup("embedstream");
        batches = group.counter("batches");
        textsEmbedded = group.counter("textsEmbedded");
        duplicateTexts = group.counter("batchDuplicateTexts");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        batchPaddedTokens = group.histogram("batchPaddedTokens", new DescriptiveStatisticsHistogram(1000));
        modelMillis = group.histogram("modelMillisPerBatch", new DescriptiveStatisticsHistogram(1000));
        group.gauge("documentLaneDepth", () -> docs.size());
        group.gauge("queryLaneDepth", () -> queries.size());
        cacheHits = group.counter("embeddingCacheHits");
        cacheMisses = group.counter("embeddingCacheMisses");
        group.gauge("embeddingCacheBreakerOpen", () -> cache != null && cache.breakerState() != CircuitBreaker.State.CLOSED ? 1 : 0);
    }

    @Override
    public void processElement1(StreamRecord<ChunkTask> element) {
        ChunkTask task = element.getValue();
        docs.add(task);
        docTokens += task.tokens();
        if (docs.size() >= settings.batchMaxSize()
                || docTokens >= settings.batchMaxTokens()
                || docs.size() >= settings.batchMaxBuffered()) {
            flushDocuments();
        } else if (!docTimerPending) {
            docTimerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + settings.batchDocMaxWaitMs();
            getProcessingTimeService().registerTimer(at, t -> {
                docTimerPending = false;
                flushDocuments();
            });
        }
    }

    @Override
    public void processElement2(StreamRecord<QueryTask> element) {
        queries.add(element.getValue());
        if (queries.size() >= settings.batchMaxSize()) {
            flushQueries();
        } else if (!queryTimerPending) {
            queryTimerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + settings.batchQueryMaxWaitMs();
            getProcessingTimeService().registerTimer(at, t -> {
                queryTimerPending = false;
                flushQueries();
            });
        }
    }

    /** Queries first: a waiting query never sits behind the document batch about to run. */
    private void flushDocuments() {
        flushQueries();
        if (docs.isEmpty()) {
            return;
        }
        List<ChunkTask> batch = new ArrayList<>(docs);
        docs.clear();
        docTokens = 0;
        List<RedisEmbeddingCache.Key> keys = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        for (ChunkTask t : batch) {
            if (t.op() == Op.UPSERT) {
                keys.add(new RedisEmbeddingCache.Key(t.tenant(), t.text()));
                tokens.add(t.tokens());
            }
        }
        float[][] vectors = embedAll(keys, tokens);
        int i = 0;
        for (ChunkTask t : batch) {
            ChunkTask out = t.op() == Op.UPSERT ? t.withVector(vectors[i++]) : t;
            output.collect(new StreamRecord<>(out));
        }
    }

    private void flushQueries() {
        if (queries.isEmpty()) {
            return;
        }
        long now = System.currentTimeMillis();
        List<QueryTask> live = new ArrayList<>(queries.size());
        for (QueryTask q : queries) {
            if (q.expiredAt(now)) {
                output.collect(Replies.TAG, new StreamRecord<>(Replies.expired(q, now)));
            } else {
                live.add(q);
            }
        }
        queries.clear();
        if (live.isEmpty()) {
            return;
        }
        List<RedisEmbeddingCache.Key> keys = new ArrayList<>(live.size());
        List<Integer> tokens = new ArrayList<>(live.size());
        for (QueryTask q : live) {
            keys.add(new RedisEmbeddingCache.Key(q.tenant(), q.text()));
            tokens.add(estimateTokens(q.text()));
        }
        float[][] vectors;
        try {
            vectors = embedAll(keys, tokens);
        } catch (RuntimeException e) {
            // A query must get an answer, not a restarted job.
            for (QueryTask q : live) {
                output.collect(Replies.TAG, new StreamRecord<>(
                        Replies.error(q, "embedding_failed", "the model failed on this batch: " + e.getMessage(), now)));
            }
            return;
        }
        for (int i = 0; i < live.size(); i++) {
            output.collect(QUERIES, new StreamRecord<>(live.get(i).withVector(vectors[i])));
        }
    }

    /**
     * Returns a vector per key, in order: from the Redis cache where it has one, else from the
     * model (each distinct text once, written back to the cache).
     */
    private float[][] embedAll(List<RedisEmbeddingCache.Key> keys, List<Integer> tokens) {
        Map<RedisEmbeddingCache.Key, float[]> found = cache == null
                ? new HashMap<>()
                : cache.getAll(keys.stream().distinct().toList());
        List<String> texts = new ArrayList<>();
        List<Integer> textTokens = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            if (!found.containsKey(keys.get(i))) {
                texts.add(keys.get(i).text());
                textTokens.add(tokens.get(i));
            }
        }
        cacheHits.inc(keys.size() - texts.size());
        cacheMisses.inc(texts.size());
        Map<String, float[]> computed = embedTexts(texts, textTokens);
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

    /**
     * Embeds each distinct text once, in length-sorted batches bounded by size and padded tokens
     * (rows x longest row).
     */
    private Map<String, float[]> embedTexts(List<String> texts, List<Integer> tokens) {
        Map<String, Integer> tokensByText = new HashMap<>();
        for (int i = 0; i < texts.size(); i++) {
            if (tokensByText.putIfAbsent(texts.get(i), tokens.get(i)) != null) {
                duplicateTexts.inc();
            }
        }
        List<String> unique = new ArrayList<>(tokensByText.keySet());
        unique.sort(Comparator.comparingInt(tokensByText::get));
        Map<String, float[]> vectors = new HashMap<>();
        int start = 0;
        while (start < unique.size()) {
            int end = start;
            int longest = 0;
            while (end < unique.size() && end - start < settings.batchMaxSize()) {
                int t = Math.min(tokensByText.get(unique.get(end)), settings.modelMaxTokens());
                int longer = Math.max(longest, t);
                if (end > start && (long) longer * (end - start + 1) > settings.batchMaxTokens()) {
                    break;
                }
                longest = longer;
                end++;
            }
            List<String> batchTexts = unique.subList(start, end);
            long t0 = System.nanoTime();
            float[][] v = embedder.embed(batchTexts);
            modelMillis.update((System.nanoTime() - t0) / 1_000_000);
            batches.inc();
            textsEmbedded.inc(batchTexts.size());
            batchSize.update(batchTexts.size());
            batchPaddedTokens.update((long) longest * batchTexts.size());
            for (int k = 0; k < batchTexts.size(); k++) {
                vectors.put(batchTexts.get(k), v[k]);
            }
            start = end;
        }
        return vectors;
    }

    /** Queries are short; a cheap estimate suffices for ordering and the token budget. */
    private static int estimateTokens(String text) {
        return text.length() / 4 + 2;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushDocuments();
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            flushDocuments();
        } else {
            flushQueries();
        }
    }

    @Override
    public void finish() throws Exception {
        flushDocuments();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (cache != null) {
            cache.close();
        }
        if (embedder != null) {
            embedder.close();
        }
        super.close();
    }
}
