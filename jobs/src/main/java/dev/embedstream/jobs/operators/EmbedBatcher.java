package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.QueryTask;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Gathers texts into micro-batches in front of the model, with two lanes: document chunks (input
 * 1) and queries (input 2).
 *
 * <p>Document lane: a batch is the oldest waiting chunk plus the buffered chunks closest to it in
 * token length, up to the padded-token target of {@link BatchSizeController} (fitted to measured
 * cost, capped by {@code batch.latency-target}) and {@code batch.max-size}. It runs when the
 * waiting chunks fill a batch, when the oldest has waited {@code batch.documents.max-wait}, or
 * when the lane holds {@code batch.max-buffered} chunks; at most one batch runs per incoming
 * element, so the task takes a query between any two document batches. Chunks leave in arrival
 * order (deletes in place) once everything before them is embedded.
 *
 * <p>Query lane: queries wait at most {@code batch.queries.max-wait} and are always embedded
 * before the next document batch, so a document backlog delays a query by at most one batch.
 *
 * <p>Texts whose vector is in the Redis cache skip the model; identical texts in a batch are
 * embedded once. Nothing buffered is lost: the document lane (with any vectors already computed)
 * is kept in operator state at each checkpoint, so a barrier costs no model work; the short
 * query lane is embedded before the barrier. After a restore at the same parallelism each
 * subtask gets its own lane back; when scaling in (2 -> 1) the lanes merge in one subtask, which
 * finishes them before anything new.
 */
public class EmbedBatcher extends AbstractStreamOperator<ChunkTask>
        implements TwoInputStreamOperator<ChunkTask, QueryTask, ChunkTask>, BoundedMultiInput {

    public static final OutputTag<QueryTask> QUERIES = new OutputTag<>("embedded-queries") {};

    /** A buffered chunk, its arrival time, and its vector once embedded. */
    private static final class Slot {
        final ChunkTask task;
        final long arrivedMs;
        float[] vector;

        Slot(ChunkTask task, long arrivedMs) {
            this.task = task;
            this.arrivedMs = arrivedMs;
        }

        boolean ready() {
            return task.op() != Op.UPSERT || vector != null;
        }
    }

    private final JobSettings settings;
    private final EmbedderFactory embedderFactory;

    private transient Embedder embedder;
    private transient RedisEmbeddingCache cache;
    private transient BatchSizeController controller;
    private transient ArrayDeque<Slot> docs;
    private transient ListState<ChunkTask> laneState;
    private transient int waitingDocs;
    private transient long waitingTokens;
    private transient ArrayDeque<QueryTask> queries;
    private transient boolean docTimerPending;
    private transient boolean queryTimerPending;
    private transient Counter batches;
    private transient Counter textsEmbedded;
    private transient Counter duplicateTexts;
    private transient Counter cacheHits;
    private transient Counter cacheMisses;
    private transient Histogram batchSize;
    private transient Histogram batchPaddedTokens;
    private transient Histogram paddingPercent;
    private transient Histogram batchWaitMillis;
    private transient Histogram modelMillis;

    public EmbedBatcher(JobSettings settings, EmbedderFactory embedderFactory) {
        this.settings = settings;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        laneState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("document-lane", TypeInformation.of(ChunkTask.class)));
        docs = new ArrayDeque<>();
        for (ChunkTask restored : laneState.get()) {
            Slot slot = new Slot(restored.withVector(null),
                    getProcessingTimeService().getCurrentProcessingTime());
            slot.vector = restored.vector();
            docs.add(slot);
            if (!slot.ready()) {
                waitingDocs++;
                waitingTokens += slot.task.tokens();
            }
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<ChunkTask> lane = new ArrayList<>(docs.size());
        for (Slot s : docs) {
            lane.add(s.vector == null ? s.task : s.task.withVector(s.vector));
        }
        laneState.update(lane);
    }

    @Override
    public void open() throws Exception {
        super.open();
        embedder = embedderFactory.open();
        if (settings.redisUri() != null) {
            cache = new RedisEmbeddingCache(settings.redisUri(), embedder.fingerprint(),
                    Duration.ofMillis(settings.embeddingCacheTtlMs()), Duration.ofMillis(settings.redisTimeoutMs()));
        }
        controller = new BatchSizeController(settings.modelMaxTokens(), settings.batchMaxTokens(),
                settings.batchLatencyTargetMs());
        queries = new ArrayDeque<>();
        var group = getMetricGroup().addGroup("embedstream");
        batches = group.counter("batches");
        textsEmbedded = group.counter("textsEmbedded");
        duplicateTexts = group.counter("batchDuplicateTexts");
        cacheHits = group.counter("embeddingCacheHits");
        cacheMisses = group.counter("embeddingCacheMisses");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        batchPaddedTokens = group.histogram("batchPaddedTokens", new DescriptiveStatisticsHistogram(1000));
        paddingPercent = group.histogram("batchPaddingPercent", new DescriptiveStatisticsHistogram(1000));
        batchWaitMillis = group.histogram("batchWaitMillis", new DescriptiveStatisticsHistogram(1000));
        modelMillis = group.histogram("modelMillisPerBatch", new DescriptiveStatisticsHistogram(1000));
        group.gauge("documentLaneDepth", () -> docs.size());
        group.gauge("queryLaneDepth", () -> queries.size());
        group.gauge("batchTokenTarget", () -> controller.targetTokens());
        group.gauge("embeddingCacheBreakerOpen",
                () -> cache != null && cache.breakerState() != CircuitBreaker.State.CLOSED ? 1 : 0);
        armDocTimer(); // a restored lane resumes on its own
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void processElement1(StreamRecord<ChunkTask> element) {
        Slot slot = new Slot(element.getValue(), now());
        docs.add(slot);
        if (!slot.ready()) {
            waitingDocs++;
            waitingTokens += slot.task.tokens();
        }
        if (waitingDocs >= settings.batchMaxSize()
                || waitingTokens >= controller.targetTokens()
                || docs.size() >= settings.batchMaxBuffered()) {
            runDocumentBatch();
        }
        emitReadyDocuments();
        armDocTimer();
    }

    private void armDocTimer() {
        if (docTimerPending || waitingDocs == 0) {
            return;
        }
        docTimerPending = true;
        long oldest = docs.stream().filter(s -> !s.ready()).mapToLong(s -> s.arrivedMs).min().orElse(now());
        getProcessingTimeService().registerTimer(oldest + settings.batchDocMaxWaitMs(), t -> {
            docTimerPending = false;
            runDocumentBatch();
            emitReadyDocuments();
            armDocTimer();
        });
    }

    @Override
    public void processElement2(StreamRecord<QueryTask> element) {
        queries.add(element.getValue());
        if (queries.size() >= settings.batchMaxSize()) {
            flushQueries();
        } else if (!queryTimerPending) {
            queryTimerPending = true;
            getProcessingTimeService().registerTimer(now() + settings.batchQueryMaxWaitMs(), t -> {
                queryTimerPending = false;
                flushQueries();
            });
        }
    }

    /**
     * Embeds one document batch: the oldest waiting chunk and those closest to it in length, up
     * to the token target. Waiting queries go first.
     */
    private void runDocumentBatch() {
        flushQueries();
        if (waitingDocs == 0) {
            return;
        }
        List<Slot> waiting = new ArrayList<>(waitingDocs);
        for (Slot s : docs) {
            if (!s.ready()) {
                waiting.add(s);
            }
        }
        Slot oldest = waiting.get(0);
        int anchor = oldest.task.tokens();
        waiting.sort(Comparator.comparingInt(s -> Math.abs(s.task.tokens() - anchor)));
        List<Slot> batch = new ArrayList<>();
        int longest = 0;
        for (Slot s : waiting) {
            int t = Math.min(s.task.tokens(), settings.modelMaxTokens());
            int longer = Math.max(longest, t);
            if (!batch.isEmpty() && (batch.size() >= settings.batchMaxSize()
                    || (long) longer * (batch.size() + 1) > controller.targetTokens())) {
                break;
            }
            batch.add(s);
            longest = longer;
        }
        long now = now();
        List<RedisEmbeddingCache.Key> keys = new ArrayList<>(batch.size());
        List<Integer> tokens = new ArrayList<>(batch.size());
        for (Slot s : batch) {
            keys.add(new RedisEmbeddingCache.Key(s.task.tenant(), s.task.text()));
            tokens.add(s.task.tokens());
            batchWaitMillis.update(now - s.arrivedMs);
        }
        float[][] vectors = embedAll(keys, tokens);
        for (int i = 0; i < batch.size(); i++) {
            Slot s = batch.get(i);
            s.vector = vectors[i];
            waitingDocs--;
            waitingTokens -= s.task.tokens();
        }
    }

    private void emitReadyDocuments() {
        while (!docs.isEmpty() && docs.peekFirst().ready()) {
            Slot s = docs.pollFirst();
            output.collect(new StreamRecord<>(s.vector == null ? s.task : s.task.withVector(s.vector)));
        }
    }

    private void flushAllDocuments() {
        while (waitingDocs > 0) {
            runDocumentBatch();
        }
        flushQueries();
        emitReadyDocuments();
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
        Map<String, Integer> missing = new HashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            if (!found.containsKey(keys.get(i)) && missing.putIfAbsent(keys.get(i).text(), tokens.get(i)) != null) {
                duplicateTexts.inc();
            }
        }
        int misses = (int) keys.stream().filter(k -> !found.containsKey(k)).count();
        cacheHits.inc(keys.size() - misses);
        cacheMisses.inc(misses);
        Map<String, float[]> computed = embedTexts(missing);
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

    /** One inference over distinct texts, shortest first; records its cost for the controller. */
    private Map<String, float[]> embedTexts(Map<String, Integer> tokensByText) {
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
        controller.record(padded, millis);
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

    /** Queries are short; a cheap estimate suffices for ordering and the token budget. */
    private static int estimateTokens(String text) {
        return text.length() / 4 + 2;
    }

    /** Queries are few and short: answer them rather than keep them in state. */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushQueries();
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            flushAllDocuments();
        } else {
            flushQueries();
        }
    }

    @Override
    public void finish() throws Exception {
        flushAllDocuments();
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
