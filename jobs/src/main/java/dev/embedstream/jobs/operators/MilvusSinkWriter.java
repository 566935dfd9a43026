package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import io.milvus.exception.ParamException;
import io.milvus.v2.exception.ErrorCode;
import io.milvus.v2.exception.MilvusClientException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers upserts by chunk id (last write wins, so keys are unique within a write) and flushes on
 * rows, estimated bytes, time and every checkpoint, so nothing a checkpoint covers lives only in
 * memory.
 * After a document's chunks are upserted, its chunks beyond the new count are deleted. A delete
 * first flushes the buffer, so a document's deletes and upserts apply in arrival order. Transient
 * failures are retried with capped backoff for a bounded time; then the job fails and replays
 * from its last checkpoint (writes are idempotent). Errors that no retry can fix (Milvus rejects
 * the parameters: a collection with another dimension, say) fail at once. While Milvus is down the
 * writer blocks in its retries, which back-pressures the job instead of buffering more.
 *
 * <p>With the retrieval cache on, each committed write (upsert batch or delete) bumps the
 * collection epoch of the tenants it touched, so cached answers computed before it are no longer
 * served. A bump Redis does not confirm is retried with the next write and on the flush timer;
 * at most {@link #MAX_PENDING_BUMPS} tenants wait (beyond that the answer TTL bounds staleness).
 */
class MilvusSinkWriter implements SinkWriter<ChunkTask> {

    private static final Logger LOG = LoggerFactory.getLogger(MilvusSinkWriter.class);
    static final long MAX_RETRY_MS = 60_000;
    static final int MAX_PENDING_BUMPS = 100_000;

    private final JobSettings settings;
    private final MilvusStore store;
    private final ProcessingTimeService time;
    private final Map<String, ChunkRow> pending = new LinkedHashMap<>();
    /** tenant -> doc id -> chunk count of its latest version in the buffer. */
    private final Map<String, Map<String, Integer>> chunkCounts = new LinkedHashMap<>();
    private long pendingBytes;
    private final Counter rowsWritten;
    private final Counter documentsDeleted;
    private final Counter retries;
    private final Histogram writeMillis;
    private final RedisLink redis;
    private final CollectionEpochs epochs;
    private final Set<String> unbumped = new LinkedHashSet<>();
    private boolean collectionReady;
    private boolean timerPending;
    private boolean sealPending;

    MilvusSinkWriter(JobSettings settings, WriterInitContext context) {
        this.settings = settings;
        this.store = new MilvusStore(settings.milvus());
        this.time = context.getProcessingTimeService();
        var group = context.metricGroup().addGroup("embedstream");
        rowsWritten = group.counter("milvusRowsWritten");
        documentsDeleted = group.counter("milvusDocumentsDeleted");
        retries = group.counter("milvusWriteRetries");
        writeMillis = group.histogram("milvusWriteMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("milvusBufferedRows", pending::size);
        group.gauge("epochBumpsPending", unbumped::size);
        redis = settings.retrievalCacheOn()
                ? settings.redisLink("epochs") : null;
        epochs = redis == null ? null : new CollectionEpochs(redis, settings.milvus().collection());
    }

    /** Bumps the epochs of tenants whose data just changed, and any still waiting from before. */
    private void bumpEpochs(Collection<String> tenants) {
        if (epochs == null) {
            return;
        }
        unbumped.addAll(tenants);
        if (epochs.bump(unbumped)) {
            unbumped.clear();
            return;
        }
        var it = unbumped.iterator();
        while (unbumped.size() > MAX_PENDING_BUMPS) {
            it.next();
            it.remove();
        }
        if (!timerPending) {
            timerPending = true;
            time.registerTimer(time.getCurrentProcessingTime() + settings.writeFlushIntervalMs(), t -> {
                timerPending = false;
                flush(false);
            });
        }
    }

    @Override
    public void write(ChunkTask task, Context context) throws InterruptedException {
        if (task.op() == Op.DELETE) {
            flush(false);
            withRetry("delete " + task.docId(), () -> {
                // No collection yet means nothing to delete.
                if (collectionReady || (collectionReady = store.openIfExists())) {
                    store.deleteChunks(task.tenant(), List.of(task.docId()), 0);
                }
            });
            documentsDeleted.inc();
            bumpEpochs(List.of(task.tenant()));
            return;
        }
        ChunkRow row = new ChunkRow(task.docId(), task.chunkIndex(), task.tenant(), task.text(), task.contentHash(),
                task.metadataJson(), task.vector());
        ChunkRow replaced = pending.put(row.chunkId(), row);
        pendingBytes += estimatedBytes(row) - (replaced == null ? 0 : estimatedBytes(replaced));
        chunkCounts.computeIfAbsent(task.tenant(), t -> new LinkedHashMap<>()).put(task.docId(), task.chunkCount());
        if (pending.size() >= settings.writeBatchRows() || pendingBytes >= settings.writeBatchBytes()) {
            flush(false);
        } else if (!timerPending) {
            timerPending = true;
            time.registerTimer(time.getCurrentProcessingTime() + settings.writeFlushIntervalMs(), t -> {
                timerPending = false;
                flush(false);
            });
        }
    }

    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        if (pending.isEmpty()) {
            bumpEpochs(List.of());
            return;
        }
        List<ChunkRow> rows = new ArrayList<>(pending.values());
        // Group each tenant's documents by their new chunk count, one tenant-scoped delete per group.
        Map<String, Map<Integer, List<String>>> staleFrom = new TreeMap<>();
        chunkCounts.forEach((tenant, docs) -> docs.forEach((doc, count) -> staleFrom
                .computeIfAbsent(tenant, t -> new TreeMap<>()).computeIfAbsent(count, c -> new ArrayList<>()).add(doc)));
        long t0 = System.nanoTime();
        withRetry("upsert of " + rows.size() + " rows", () -> {
            ensureCollection(rows.get(0).vector().length);
            store.upsert(rows);
            staleFrom.forEach((tenant, byCount) -> byCount.forEach((from, docs) -> store.deleteChunks(tenant, docs, from)));
        });
        writeMillis.update((System.nanoTime() - t0) / 1_000_000);
        rowsWritten.inc(rows.size());
        Set<String> tenants = new LinkedHashSet<>();
        rows.forEach(r -> tenants.add(r.tenant()));
        pending.clear();
        pendingBytes = 0;
        chunkCounts.clear();
        bumpEpochs(tenants);
        scheduleSeal();
    }

    /** Seals once per interval after writes; a failed seal only costs search speed, so it is logged. */
    private void scheduleSeal() {
        if (sealPending || settings.writeSealIntervalMs() <= 0) {
            return;
        }
        sealPending = true;
        time.registerTimer(time.getCurrentProcessingTime() + settings.writeSealIntervalMs(), t -> {
            sealPending = false;
            try {
                store.seal();
            } catch (RuntimeException e) {
                LOG.warn("sealing {} failed ({}); searches over new rows stay slower until the next seal",
                        settings.milvus().collection(), e.getMessage());
            }
        });
    }

    /** The collection is created on the first write, when the vector dimension is known. */
    private void ensureCollection(int dimension) {
        if (!collectionReady) {
            store.ensureCollection(dimension);
            collectionReady = true;
        }
    }

    /** What a row costs in an insert request, roughly: UTF-16 upper bound of its strings plus the vector. */
    static long estimatedBytes(ChunkRow r) {
        return 64 + 2L * (r.docId().length() + r.tenant().length() + r.text().length() + r.contentHash().length()
                + r.metadataJson().length()) + 4L * r.vector().length;
    }

    /** False for errors no retry can fix: Milvus or the client rejected the request's parameters. */
    static boolean retryable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException || t instanceof ParamException) {
                return false; // the SDK's own checks: dimension, field types, lengths
            }
            if (t instanceof MilvusClientException m
                    && (m.getErrorCode() == ErrorCode.INVALID_PARAMS || m.getServerErrCode() == 1100)) {
                return false; // 1100: Milvus' "invalid parameter"
            }
        }
        return true;
    }

    private void withRetry(String what, Runnable call) throws InterruptedException {
        long deadline = System.currentTimeMillis() + MAX_RETRY_MS;
        long backoff = 100;
        while (true) {
            try {
                call.run();
                return;
            } catch (RuntimeException e) {
                if (!retryable(e)) {
                    throw new IllegalStateException("Milvus " + what + " was rejected; retrying cannot help: " + e.getMessage(), e);
                }
                if (System.currentTimeMillis() + backoff > deadline) {
                    throw new IllegalStateException("Milvus " + what + " still failing after " + MAX_RETRY_MS + " ms", e);
                }
                retries.inc();
                LOG.warn("Milvus {} failed ({}); retrying in {} ms", what, e.getMessage(), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }

    @Override
    public void close() {
        store.close();
        if (redis != null) {
            redis.close();
        }
    }
}
