package dev.embedstream.jobs.operators;

import dev.embedstream.common.BatchStrategy;
import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.quota.TenantBuckets;
import dev.embedstream.common.quota.TenantRates;
import dev.embedstream.jobs.metrics.TenantMetrics;
import dev.embedstream.jobs.settings.BatchSettings;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.settings.QuotaSettings;
import dev.embedstream.jobs.types.ChunkTask;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
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
 * Embeds document chunks in micro-batches, scheduled fairly across tenants. Each tenant has its own
 * queue of chunks in arrival order; a batch is filled by deficit round robin over the tenants with
 * waiting chunks: on its turn a tenant's deficit grows by a quantum (the batch's padded-token
 * budget of {@link BatchSizeController} shared by the tenants waiting, at least one model window)
 * and it adds chunks while their tokens fit its deficit and the batch its budget ({@code
 * batch.max-size}, padded tokens): its oldest waiting chunk, then those closest to it in length.
 * So a tenant's backlog of thousands of chunks takes at most its share of each batch, and another
 * tenant's single chunk is in the next batch. With {@code batch.strategy FIXED}, the oldest {@code
 * batch.max-size} chunks in arrival order across tenants (the benchmark's baseline).
 *
 * <p>A tenant over its document quota ({@code quota.documents.*}, tokens per second, this
 * subtask's share) is skipped while its bucket is in debt; its chunks wait in the lane (never
 * dropped) and a timer wakes the lane when it may go again. A batch is charged to its tenants'
 * buckets after it starts, so one long batch can put a tenant in debt. When the lane is at its
 * bound ({@code batch.max-buffered} chunks or {@code batch.max-buffered-bytes}) a batch runs
 * whatever the quotas, so the lane always makes room (backpressure instead of unbounded growth).
 *
 * <p>A batch runs a millisecond after the chunks of the tenants that may go fill a batch (so the
 * input gets a turn between two batches), when the oldest of them has waited {@code
 * batch.documents.max-wait}, or at once when the lane is at its bound (at most one batch per
 * incoming chunk); {@code FIXED} runs a full batch at once. While a flood arrives the lane reads it
 * in before the next batch (see {@link #onDocTimer}), so that the backlog waits in the lane, where
 * it is scheduled fairly, rather than in the network buffers in arrival order. A tenant's chunks leave in its arrival order (deletes in place) once
 * everything of that tenant before them is embedded, which keeps each document's changes in order
 * (DESIGN section 3); chunks of different tenants overtake each other. Queries have their own
 * operator ({@link EmbedQueries}) and task, so documents never hold them back.
 *
 * <p>Nothing buffered is lost: the lane (with any vectors already computed) is kept in operator
 * state at each checkpoint, each tenant's chunks in its order, so a barrier costs no model work.
 * After a restore at the same parallelism each subtask gets its own lane back; when scaling in
 * (2 -> 1) the lanes merge in one subtask, which finishes them before anything new.
 */
public class EmbedDocuments extends AbstractStreamOperator<ChunkTask>
        implements OneInputStreamOperator<ChunkTask, ChunkTask>, BoundedOneInput {

    /** A buffered chunk, its arrival (time and order), and its vector once embedded. */
    private static final class Slot {
        final ChunkTask task;
        final long arrivedMs;
        final long seq;
        float[] vector;

        Slot(ChunkTask task, long arrivedMs, long seq) {
            this.task = task;
            this.arrivedMs = arrivedMs;
            this.seq = seq;
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

    /** One tenant's chunks in arrival order, and its deficit (tokens it may still add) in the round robin. */
    private static final class TenantLane {
        final String tenant;
        final ArrayDeque<Slot> slots = new ArrayDeque<>();
        int waiting;
        long waitingTokens;
        long deficit;

        TenantLane(String tenant) {
            this.tenant = tenant;
        }

        List<Slot> waitingSlots() {
            List<Slot> out = new ArrayList<>(waiting);
            for (Slot s : slots) {
                if (!s.ready()) {
                    out.add(s);
                }
            }
            return out;
        }
    }

    /**
     * What the per-tenant gauges read (from the metrics thread): the chunks in the lane and the
     * arrival of the oldest, summed / the oldest over the tenants sharing the label.
     */
    private static final class LaneGauges {
        volatile long chunks;
        volatile long oldestArrivedMs = Long.MAX_VALUE;
    }

    /**
     * How often the per-tenant gauges are recomputed (a pass over the tenants in the lane), in
     * processing time; between passes the lag gauges still age, as they read the clock.
     */
    private static final long GAUGE_PERIOD_MS = 100;
    /** Input this many times as fast as the lane embeds is a flood, which the lane reads in before embedding. */
    private static final int FLOOD = 2;

    private final ModelSettings modelSettings;
    private final BatchSettings batching;
    private final QuotaSettings quota;
    private final CacheSettings cache;
    private final EmbedderFactory embedderFactory;

    private transient BatchEmbedder model;
    private transient BatchSizeController controller;
    private transient TenantBuckets quotas;
    /** Every tenant with chunks in the lane. */
    private transient Map<String, TenantLane> lanes;
    /** The tenants with chunks waiting for the model, in round-robin order (next turn first). */
    private transient LinkedHashSet<TenantLane> rotation;
    private transient ListState<ChunkTask> laneState;
    private transient long arrivals;
    private transient int laneChunks;
    private transient int waitingDocs;
    private transient long laneBytes;
    /** When the earliest timer still pending fires (Long.MAX_VALUE: none). */
    private transient long timerAtMs;
    /** When the last timer batch ended, and the arrivals counted then. */
    private transient long batchEndMs;
    private transient long arrivalsAtBatchEnd;
    /** Until when a flood is read before an overdue batch: as long again as the last batch ran. */
    private transient long absorbUntilMs;
    /** Chunks per millisecond the last timer batch embedded. */
    private transient double embeddedPerMs;
    private transient Histogram batchWaitMillis;
    private transient TenantMetrics<LaneGauges> tenantGauges;
    private transient long nextGaugesMs;

    /** @param quota the per-tenant document token rates the scheduler paces tenants by */
    public EmbedDocuments(ModelSettings model, BatchSettings batch, QuotaSettings quota, CacheSettings cache,
            EmbedderFactory embedderFactory) {
        this.modelSettings = model;
        this.batching = batch;
        this.quota = quota;
        this.cache = cache;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        laneState = context.getOperatorStateStore()
                .getListState(new ListStateDescriptor<>("document-lane", TypeInformation.of(ChunkTask.class)));
        lanes = new HashMap<>();
        rotation = new LinkedHashSet<>();
        timerAtMs = Long.MAX_VALUE;
        for (ChunkTask restored : laneState.get()) {
            enqueue(restored);
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        // Tenant after tenant, each in its arrival order: what a restore needs to keep each
        // document's changes in order (the order between tenants is free).
        List<ChunkTask> lane = new ArrayList<>(laneChunks);
        for (TenantLane t : lanes.values()) {
            for (Slot s : t.slots) {
                lane.add(s.toTask());
            }
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
        TenantRates rates = quota.documentRates();
        // Processing time, not System.nanoTime: quotas follow the clock the timers run on (and the harness's in tests).
        quotas = rates.unlimited() ? null : new TenantBuckets(
                rates.share(getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks()), quota.maxTenants(),
                () -> TimeUnit.MILLISECONDS.toNanos(now()));
        var group = getMetricGroup().addGroup("embedstream");
        model = new BatchEmbedder(modelSettings, cache, null, embedderFactory, group, controller::record);
        batchWaitMillis = group.histogram("batchWaitMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("documentLaneDepth", () -> laneChunks);
        group.gauge("documentLaneBytes", () -> laneBytes);
        group.gauge("batchTokenTarget", () -> controller.targetTokens());
        tenantGauges = new TenantMetrics<>(group, rates.overrides().keySet(), g -> {
            LaneGauges holder = new LaneGauges();
            g.gauge("documentLaneChunks", () -> holder.chunks);
            g.gauge("documentLagMillis", () -> holder.oldestArrivedMs == Long.MAX_VALUE ? 0L
                    : Math.max(0L, now() - holder.oldestArrivedMs));
            return holder;
        });
        armDocTimer(); // a restored lane resumes on its own
        publishGauges();
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void processElement(StreamRecord<ChunkTask> element) {
        TenantLane lane = enqueue(element.getValue());
        if (atBound()) {
            // Room first: a batch runs whatever the quotas, or a tenant in debt could stall the input.
            runDocumentBatch(true);
        } else if (!adaptive() && fillsABatch()) {
            runDocumentBatch(false);
        }
        emitReady(lane);
        armDocTimer();
        if (now() >= nextGaugesMs) {
            publishGauges();
        }
    }

    private boolean atBound() {
        return laneChunks >= batching.maxBuffered() || laneBytes >= batching.maxBufferedBytes();
    }

    /**
     * Adds a chunk to its tenant's queue; a restored chunk may already carry its vector, and a text
     * in the in-process cache gets its vector at once, so it never waits for a batch.
     */
    private TenantLane enqueue(ChunkTask task) {
        Slot slot = new Slot(task.vector() == null ? task : task.withVector(null), now(), arrivals++);
        slot.vector = task.vector();
        if (slot.vector == null && model != null && task.op() == Op.UPSERT) {
            slot.vector = model.cachedInJvm(EmbeddingCache.Key.of(task.tenant(), task.text()));
        }
        TenantLane lane = lanes.computeIfAbsent(task.tenant(), TenantLane::new);
        lane.slots.add(slot);
        laneChunks++;
        laneBytes += slot.bytes();
        if (!slot.ready()) {
            lane.waiting++;
            lane.waitingTokens += slot.task.tokens();
            waitingDocs++;
            rotation.add(lane); // a tenant new to the round robin takes the last turn
        }
        return lane;
    }

    /** The tenant may start work now: no quota, or its bucket is not in debt. */
    private boolean mayStart(TenantLane lane) {
        return quotas == null || quotas.mayStart(lane.tenant);
    }

    /** The chunks of the tenants that may start now fill a batch (in count or tokens). */
    private boolean fillsABatch() {
        int docs = 0;
        long tokens = 0;
        for (TenantLane t : rotation) {
            if (mayStart(t)) {
                docs += t.waiting;
                tokens += t.waitingTokens;
            }
        }
        return docs >= batching.maxSize() || (adaptive() && tokens >= controller.nextBatchTokens());
    }

    /**
     * Keeps one timer pending for the earliest moment the lane must act: the max-wait of the
     * oldest chunk of a tenant that may start, a millisecond ahead when such chunks already fill a
     * batch, or when the first tenant in debt may start again. Never sooner than a millisecond
     * ahead, so the input always gets a turn between two batches.
     */
    private void armDocTimer() {
        long now = now();
        if (waitingDocs == 0 || timerAtMs <= now + 1) {
            return; // nothing to wait for, or nothing could be sooner (the common case in a flood)
        }
        long due = Long.MAX_VALUE;
        boolean full = adaptive() && fillsABatch();
        for (TenantLane t : rotation) {
            if (!mayStart(t)) {
                due = Math.min(due, now + Math.max(1, TimeUnit.NANOSECONDS.toMillis(quotas.nanosUntilStart(t.tenant)) + 1));
            } else {
                due = Math.min(due, full ? now : oldestWaiting(t).arrivedMs + batching.documentsMaxWaitMs());
            }
        }
        due = Math.max(due, now + 1);
        if (due >= timerAtMs) {
            return;
        }
        timerAtMs = due;
        getProcessingTimeService().registerTimer(due, this::onDocTimer);
    }

    /**
     * A due batch. While a flood comes in (chunks arriving since the last batch at least
     * {@value #FLOOD} times as fast as that batch embedded them) the lane reads on first, for at
     * most as long as the last batch ran: so it takes in a flood faster than it embeds and
     * schedules the flood across tenants, instead of embedding it in arrival order straight from
     * the network buffers. Input slower than that never delays a batch, so a lane that keeps up
     * loses no throughput.
     */
    private void onDocTimer(long time) {
        if (time != timerAtMs) {
            return; // superseded by an earlier timer, which already re-armed
        }
        timerAtMs = Long.MAX_VALUE;
        long start = now();
        long arrived = arrivals - arrivalsAtBatchEnd;
        if (start < absorbUntilMs && arrived >= FLOOD * embeddedPerMs * Math.max(1, start - batchEndMs)) {
            timerAtMs = start + 1;
            getProcessingTimeService().registerTimer(timerAtMs, this::onDocTimer);
            return;
        }
        int embedded = runDocumentBatch(atBound());
        batchEndMs = now();
        long took = batchEndMs - start;
        arrivalsAtBatchEnd = arrivals;
        absorbUntilMs = batchEndMs + took;
        embeddedPerMs = (double) embedded / Math.max(1, took);
        armDocTimer();
        publishGauges();
    }

    private static Slot oldestWaiting(TenantLane lane) {
        for (Slot s : lane.slots) {
            if (!s.ready()) {
                return s;
            }
        }
        throw new IllegalStateException("tenant " + lane.tenant + " has no waiting chunk");
    }

    private boolean adaptive() {
        return batching.strategy() == BatchStrategy.ADAPTIVE;
    }

    /**
     * Embeds one document batch (see the class comment), charges each tenant's quota for its
     * chunks, and emits what became ready.
     *
     * @return the chunks embedded
     *
     * @param ignoreQuota the lane is at its bound (or finishing): tenants in debt take part too
     */
    private int runDocumentBatch(boolean ignoreQuota) {
        List<TenantLane> turns = new ArrayList<>(rotation.size());
        for (var it = rotation.iterator(); it.hasNext(); ) {
            TenantLane t = it.next();
            if (t.waiting == 0) {
                it.remove(); // an emptied queue leaves the round robin without credit
                t.deficit = 0;
            } else if (ignoreQuota || mayStart(t)) {
                turns.add(t);
            }
        }
        if (turns.isEmpty()) {
            return 0;
        }
        List<Slot> batch = adaptive() ? fairBatch(turns, controller.nextBatchTokens()) : oldestInArrivalOrder(turns);
        long now = now();
        List<EmbeddingCache.Key> keys = new ArrayList<>(batch.size());
        List<Integer> tokens = new ArrayList<>(batch.size());
        for (Slot s : batch) {
            keys.add(EmbeddingCache.Key.of(s.task.tenant(), s.task.text()));
            tokens.add(s.task.tokens());
            batchWaitMillis.update(now - s.arrivedMs);
        }
        float[][] vectors = model.embed(keys, tokens);
        Set<TenantLane> served = new LinkedHashSet<>();
        for (int i = 0; i < batch.size(); i++) {
            Slot s = batch.get(i);
            s.vector = vectors[i];
            TenantLane lane = lanes.get(s.task.tenant());
            lane.waiting--;
            lane.waitingTokens -= s.task.tokens();
            waitingDocs--;
            if (quotas != null) {
                quotas.charge(lane.tenant, s.task.tokens());
            }
            served.add(lane);
        }
        served.forEach(this::emitReady);
        return batch.size();
    }

    /**
     * Deficit round robin by padded tokens over the tenants' turns: each round a tenant's deficit
     * grows by the quantum and it adds its oldest waiting chunk, then those closest to it in length,
     * while they fit its deficit (a chunk costs its tokens, at least the budget over
     * {@code batch.max-size}) and the batch its padded-token budget. A tenant that added chunks moves
     * to the back of the rotation, so the next batch starts with the next tenant; one whose chunk
     * did not fit (too long for what the batch already pads to) keeps its place, so it is first in
     * the next batch, where its chunk always fits.
     */
    private List<Slot> fairBatch(List<TenantLane> turns, int budget) {
        // A row costs at least its share of the batch's rows, so a tenant's quantum bounds its rows
        // (batch.max-size) as well as its tokens; the quantum, each tenant's share of the budget,
        // is at least the dearest chunk, so every turn can take one.
        int rowCost = (int) Math.ceil((double) budget / batching.maxSize());
        long quantum = Math.max(Math.max(modelSettings.maxTokens(), rowCost), budget / turns.size());
        Map<TenantLane, ArrayDeque<Slot>> candidates = new HashMap<>();
        List<Slot> batch = new ArrayList<>();
        int longest = 0;
        boolean full = false;
        boolean progress = true;
        while (progress && !full) {
            progress = false;
            for (TenantLane t : turns) {
                ArrayDeque<Slot> mine = candidates.computeIfAbsent(t, EmbedDocuments::byLength);
                if (mine.isEmpty()) {
                    continue;
                }
                t.deficit += quantum;
                int before = batch.size();
                while (!mine.isEmpty()) {
                    int tokens = Math.min(mine.peekFirst().task.tokens(), modelSettings.maxTokens());
                    int cost = Math.max(tokens, rowCost);
                    if (cost > t.deficit) {
                        break;
                    }
                    int longer = Math.max(longest, tokens);
                    if (!batch.isEmpty() && (batch.size() >= batching.maxSize() || (long) longer * (batch.size() + 1) > budget)) {
                        full = true;
                        break;
                    }
                    batch.add(mine.pollFirst());
                    longest = longer;
                    t.deficit -= cost;
                    progress = true;
                }
                if (mine.isEmpty()) {
                    t.deficit = 0;
                }
                if (batch.size() > before) {
                    rotation.remove(t);
                    rotation.add(t);
                } // else its chunk did not fit this batch: it keeps its place and starts the next one
                if (full) {
                    break;
                }
            }
        }
        return batch;
    }

    /** A tenant's waiting chunks: its oldest, then the others by closeness to it in length. */
    private static ArrayDeque<Slot> byLength(TenantLane lane) {
        List<Slot> waiting = lane.waitingSlots();
        int anchor = waiting.get(0).task.tokens();
        waiting.subList(1, waiting.size()).sort(Comparator.comparingInt(s -> Math.abs(s.task.tokens() - anchor)));
        return new ArrayDeque<>(waiting);
    }

    /** {@code FIXED}: the oldest {@code batch.max-size} waiting chunks of these tenants, in arrival order. */
    private List<Slot> oldestInArrivalOrder(List<TenantLane> turns) {
        List<Slot> waiting = new ArrayList<>();
        for (TenantLane t : turns) {
            waiting.addAll(t.waitingSlots());
        }
        waiting.sort(Comparator.comparingLong(s -> s.seq));
        return waiting.subList(0, Math.min(waiting.size(), batching.maxSize()));
    }

    /** Emits the tenant's ready chunks up to its first one still waiting (its arrival order). */
    private void emitReady(TenantLane lane) {
        while (!lane.slots.isEmpty() && lane.slots.peekFirst().ready()) {
            Slot s = lane.slots.pollFirst();
            laneChunks--;
            laneBytes -= s.bytes();
            output.collect(new StreamRecord<>(s.toTask()));
        }
        if (lane.slots.isEmpty()) {
            lanes.remove(lane.tenant);
            rotation.remove(lane);
        }
    }

    /** Recomputes the per-tenant gauges: chunks in the lane and the oldest arrival, per label. */
    private void publishGauges() {
        Map<LaneGauges, long[]> sums = new HashMap<>();
        for (LaneGauges g : tenantGauges.all()) {
            sums.put(g, new long[] {0, Long.MAX_VALUE});
        }
        for (TenantLane t : lanes.values()) {
            long[] sum = sums.computeIfAbsent(tenantGauges.of(t.tenant), g -> new long[] {0, Long.MAX_VALUE});
            sum[0] += t.slots.size();
            sum[1] = Math.min(sum[1], t.slots.peekFirst().arrivedMs);
        }
        sums.forEach((g, sum) -> {
            g.chunks = sum[0];
            g.oldestArrivedMs = sum[1];
        });
        nextGaugesMs = now() + GAUGE_PERIOD_MS;
    }

    private void flushAllDocuments() {
        while (waitingDocs > 0) {
            runDocumentBatch(true);
        }
        publishGauges();
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
