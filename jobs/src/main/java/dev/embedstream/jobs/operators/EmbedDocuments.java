package dev.embedstream.jobs.operators;

import dev.embedstream.common.BatchStrategy;
import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.settings.BatchSettings;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.types.ChunkTask;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Embeds document chunks in micro-batches. A batch is the oldest waiting chunk plus the buffered
 * chunks closest to it in token length, up to the padded-token budget of
 * {@link BatchSizeController} (fitted to measured cost, capped by {@code batch.latency-target})
 * and {@code batch.max-size}; with {@code batch.strategy FIXED}, the oldest {@code batch.max-size}
 * chunks in arrival order (the benchmark's baseline). It runs when the waiting chunks fill a batch, when the oldest has
 * waited {@code batch.documents.max-wait}, or when the lane holds {@code batch.max-buffered}
 * chunks or {@code batch.max-buffered-bytes} of text and metadata; at most one batch runs per
 * incoming chunk. Chunks leave in arrival order (deletes in
 * place) once everything before them is embedded. Queries have their own operator
 * ({@link EmbedQueries}) and task, so documents never hold them back.
 *
 * <p>Nothing buffered is lost: the lane (with any vectors already computed) is kept in operator
 * state at each checkpoint, so a barrier costs no model work. After a restore at the same
 * parallelism each subtask gets its own lane back; when scaling in (2 -> 1) the lanes merge in one
 * subtask, which finishes them before anything new.
 */
public class EmbedDocuments extends AbstractStreamOperator<ChunkTask>
        implements OneInputStreamOperator<ChunkTask, ChunkTask>, BoundedOneInput {

    /** A buffered chunk, its arrival time, and its vector once embedded. */
    private static final class Slot {
        final ChunkTask task;
        final long arrivedMs;
        float[] vector;

        Slot(ChunkTask task, long arrivedMs) {
            this.task = task;
            this.arrivedMs = arrivedMs;
        }

        /**
         * Heap the slot's strings hold (UTF-16): what varies between chunks. A chunk is at most
         * {@code chunk.max-tokens} tokens, but a token can stand for a long run of characters.
         */
        long bytes() {
            return 2L * ((task.text() == null ? 0 : task.text().length())
                    + (task.metadataJson() == null ? 0 : task.metadataJson().length()) + task.docId().length());
        }

        boolean ready() {
            return task.op() != Op.UPSERT || vector != null;
        }

        ChunkTask toTask() {
            return vector == null ? task : task.withVector(vector);
        }
    }

    private final ModelSettings modelSettings;
    private final BatchSettings batching;
    private final CacheSettings cache;
    private final EmbedderFactory embedderFactory;

    private transient BatchEmbedder model;
    private transient BatchSizeController controller;
    private transient ArrayDeque<Slot> docs;
    private transient ListState<ChunkTask> laneState;
    private transient int waitingDocs;
    private transient long waitingTokens;
    private transient long laneBytes;
    private transient boolean docTimerPending;
    private transient Histogram batchWaitMillis;

    public EmbedDocuments(ModelSettings model, BatchSettings batch, CacheSettings cache, EmbedderFactory embedderFactory) {
        this.modelSettings = model;
        this.batching = batch;
        this.cache = cache;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        laneState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("document-lane", TypeInformation.of(ChunkTask.class)));
        docs = new ArrayDeque<>();
        for (ChunkTask restored : laneState.get()) {
            enqueue(restored);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        List<ChunkTask> lane = new ArrayList<>(docs.size());
        for (Slot s : docs) {
            lane.add(s.toTask());
        }
        laneState.update(lane);
    }

    @Override
    public void open() throws Exception {
        super.open();
        // open() runs in the task thread, which also runs every batch (ONNX Runtime with one
        // intra-op thread computes in the caller's thread; more threads inherit the nice value).
        ThreadPriority.niceCurrentThread(batching.documentsNice());
        controller = new BatchSizeController(2 * modelSettings.maxTokens(), batching.maxTokens(),
                batching.latencyTargetMs());
        var group = getMetricGroup().addGroup("embedstream");
        model = new BatchEmbedder(modelSettings, cache, null, embedderFactory, group, controller::record);
        batchWaitMillis = group.histogram("batchWaitMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("documentLaneDepth", () -> docs.size());
        group.gauge("documentLaneBytes", () -> laneBytes);
        group.gauge("batchTokenTarget", () -> controller.targetTokens());
        armDocTimer(); // a restored lane resumes on its own
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void processElement(StreamRecord<ChunkTask> element) {
        enqueue(element.getValue());
        if (waitingDocs >= batching.maxSize()
                || (adaptive() && waitingTokens >= controller.nextBatchTokens())
                || docs.size() >= batching.maxBuffered()
                || laneBytes >= batching.maxBufferedBytes()) {
            runDocumentBatch();
        }
        emitReadyDocuments();
        armDocTimer();
    }

    /**
     * Adds a chunk to the lane; a restored chunk may already carry its vector, and a text in the
     * in-process cache gets its vector at once, so it never waits for a batch.
     */
    private void enqueue(ChunkTask task) {
        Slot slot = new Slot(task.vector() == null ? task : task.withVector(null), now());
        slot.vector = task.vector();
        if (slot.vector == null && model != null && task.op() == Op.UPSERT) {
            slot.vector = model.cachedInJvm(EmbeddingCache.Key.of(task.tenant(), task.text()));
        }
        docs.add(slot);
        laneBytes += slot.bytes();
        if (!slot.ready()) {
            waitingDocs++;
            waitingTokens += slot.task.tokens();
        }
    }

    private void armDocTimer() {
        if (docTimerPending || waitingDocs == 0) {
            return;
        }
        docTimerPending = true;
        long oldest = docs.stream().filter(s -> !s.ready()).mapToLong(s -> s.arrivedMs).min().orElse(now());
        getProcessingTimeService().registerTimer(oldest + batching.documentsMaxWaitMs(), t -> {
            docTimerPending = false;
            runDocumentBatch();
            emitReadyDocuments();
            armDocTimer();
        });
    }

    private boolean adaptive() {
        return batching.strategy() == BatchStrategy.ADAPTIVE;
    }

    /**
     * Embeds one document batch: adaptive, the oldest waiting chunk and those closest to it in
     * length, up to the token budget; fixed, the oldest {@code batch.max-size} in arrival order.
     */
    private void runDocumentBatch() {
        if (waitingDocs == 0) {
            return;
        }
        List<Slot> waiting = new ArrayList<>(waitingDocs);
        for (Slot s : docs) {
            if (!s.ready()) {
                waiting.add(s);
            }
        }
        List<Slot> batch = adaptive() ? byLength(waiting, controller.nextBatchTokens())
                : waiting.subList(0, Math.min(waiting.size(), batching.maxSize()));
        long now = now();
        List<EmbeddingCache.Key> keys = new ArrayList<>(batch.size());
        List<Integer> tokens = new ArrayList<>(batch.size());
        for (Slot s : batch) {
            keys.add(EmbeddingCache.Key.of(s.task.tenant(), s.task.text()));
            tokens.add(s.task.tokens());
            batchWaitMillis.update(now - s.arrivedMs);
        }
        float[][] vectors = model.embed(keys, tokens);
        for (int i = 0; i < batch.size(); i++) {
            Slot s = batch.get(i);
            s.vector = vectors[i];
            waitingDocs--;
            waitingTokens -= s.task.tokens();
        }
    }

    /** The oldest waiting chunk and those closest to it in length, within the padded-token budget. */
    private List<Slot> byLength(List<Slot> waiting, int budget) {
        int anchor = waiting.get(0).task.tokens();
        waiting.sort(Comparator.comparingInt(s -> Math.abs(s.task.tokens() - anchor)));
        List<Slot> batch = new ArrayList<>();
        int longest = 0;
        for (Slot s : waiting) {
            int t = Math.min(s.task.tokens(), modelSettings.maxTokens());
            int longer = Math.max(longest, t);
            if (!batch.isEmpty() && (batch.size() >= batching.maxSize() || (long) longer * (batch.size() + 1) > budget)) {
                break;
            }
            batch.add(s);
            longest = longer;
        }
        return batch;
    }

    private void emitReadyDocuments() {
        while (!docs.isEmpty() && docs.peekFirst().ready()) {
            Slot s = docs.pollFirst();
            laneBytes -= s.bytes();
            output.collect(new StreamRecord<>(s.toTask()));
        }
    }

    private void flushAllDocuments() {
        while (waitingDocs > 0) {
            runDocumentBatch();
        }
        emitReadyDocuments();
    }

    @Override
    public void endInput() {
        flushAllDocuments();
    }

    @Override
    public void finish() throws Exception {
        flushAllDocuments();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (model != null) {
            model.close();
        }
        super.close();
    }
}
