package dev.embedstream.jobs.operators;

import com.google.gson.JsonParseException;
import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.jobs.settings.KafkaSettings;
import dev.embedstream.jobs.settings.MilvusWriteSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.DocumentChange;
import dev.embedstream.jobs.types.Origin;
import io.milvus.exception.ParamException;
import io.milvus.v2.exception.ErrorCode;
import io.milvus.v2.exception.MilvusClientException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.throwable.FatalExceptionClassifier;
import org.apache.flink.connector.base.sink.writer.AsyncSinkFatalExceptionClassifiers;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriter;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.DequeRequestBuffer;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.connector.base.sink.writer.RequestEntryWrapper;
import org.apache.flink.connector.base.sink.writer.ResultHandler;
import org.apache.flink.connector.base.sink.writer.SimpleBatchCreator;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes batches of chunk upserts and document deletes to Milvus.
 *
 * <p><b>Threads.</b> The task's mailbox thread only buffers and hands batches over; every Milvus,
 * Redis and Kafka call runs on this writer's own thread, which retries transient failures with
 * capped backoff there and reports the result back through the {@link ResultHandler}. One batch is
 * in flight at a time, so a document's changes reach Milvus in arrival order; its rows are at most
 * what {@link AdaptiveWriteLimit} allows, which shrinks when Milvus slows down. Batches go out on
 * rows, estimated bytes, time and every checkpoint: the writer drains before the barrier, so a
 * restored job (also at another parallelism) never applies an older change of a document on one
 * subtask while its newer change arrives on another.
 *
 * <p><b>One batch.</b> Its entries are grouped by document (tenant, doc_id). A delete wipes the
 * document's earlier entries in the batch, so the batch applies as: the deletes, then the upserts
 * (chunk ids are unique within the write, the last version wins), then the deletes of stale chunks
 * (index >= the newest chunk count) - the same end state as applying the entries one by one.
 *
 * <p><b>Refused rows.</b> When Milvus refuses a call for a reason no retry can fix (a value over a
 * field limit, say), the call is split in halves, recursively, until the refused documents are
 * found; each is dead-lettered whole ({@code milvus_rejected}, stage {@code milvus_write}) and the
 * rest of the batch lands. The dead letter is awaited before the batch counts as written, so it is
 * never lost. Transient failures are retried for at most the retry time of a batch; then the job
 * fails and replays from its last checkpoint (writes are idempotent upserts). A collection of
 * another id scheme or dimension fails the job without restarts: no retry or replay can fix it.
 *
 * <p><b>Epochs.</b> With the retrieval cache on, each written batch bumps the collection epoch of
 * the tenants it touched. Tenants whose bump Redis has not confirmed are retried on a timer and
 * kept in the writer state ({@link MilvusSinkEntry.Kind#EPOCH_BUMP} entries), so a restart bumps
 * them again instead of forgetting them; at most {@link #MAX_PENDING_BUMPS} wait.
 */
class MilvusSinkWriter extends AsyncSinkWriter<ChunkTask, MilvusSinkEntry> {

    private static final Logger LOG = LoggerFactory.getLogger(MilvusSinkWriter.class);
    static final int MAX_PENDING_BUMPS = 100_000;
    /** Most tenants bumped by one Redis script. */
    static final int BUMP_CHUNK = 500;
    static final long FIRST_BACKOFF_MS = 100;
    static final long MAX_BACKOFF_MS = 5_000;
    static final String STAGE = "milvus_write";
    static final String CODE = "milvus_rejected";
    /** Dead-letter producer bounds: a broker that is away fails the job instead of hanging it. */
    static final int DLQ_MAX_BLOCK_MS = 10_000;
    static final int DLQ_DELIVERY_TIMEOUT_MS = 30_000;

    /**
     * Which failures no retry can fix. Interrupts end the writer; the rest are Milvus refusing the
     * request's content (mapped to {@link Refused}): the SDK's own checks (a VARCHAR over its
     * max_length, a wrong dimension), {@code INVALID_PARAMS}, server code 1100 ("invalid
     * parameter": real Milvus refusing JSON over 64 KiB), and the SDK failing to map a server
     * status it does not know (Milvus Lite answers a bad request with legacy code 2), metadata
     * that is no JSON.
     */
    private static final FatalExceptionClassifier NOT_RETRYABLE = FatalExceptionClassifier.createChain(
            AsyncSinkFatalExceptionClassifiers.getInterruptedExceptionClassifier(),
            FatalExceptionClassifier.withRootCauseOfType(ParamException.class, Refused::new),
            FatalExceptionClassifier.withRootCauseOfType(IllegalArgumentException.class, Refused::new),
            FatalExceptionClassifier.withRootCauseOfType(JsonParseException.class, Refused::new),
            new FatalExceptionClassifier(MilvusSinkWriter::invalidParameters, Refused::new));

    private final MilvusSettings milvus;
    private final MilvusWriteSettings write;
    private final KafkaSettings kafka;
    private final long maxRetryMs;
    private final long maxEntryBytes;
    private final MailboxExecutor mailbox;
    private final ProcessingTimeService time;
    private final DequeRequestBuffer<MilvusSinkEntry> buffer;
    /** Rows per write, adapted to Milvus' latency (also the config's rate-limiting strategy). */
    private final AdaptiveWriteLimit limit;
    private final MilvusSinkClient client;
    /** The writer's own thread: every remote call runs here, one task at a time. */
    private final ExecutorService io;
    private final DeadLetters deadLetters;
    private final RedisLink redis;
    private final CollectionEpochs epochs;
    /** Tenants whose epoch bump Redis has not confirmed; read by snapshots on the mailbox thread. */
    private final Set<String> unbumped = Collections.synchronizedSet(new LinkedHashSet<>());

    private final Counter rowsWritten;
    private final Counter documentsDeleted;
    private final Counter documentsRejected;
    private final Counter retries;
    private final Histogram writeMillis;
    private final DeadLetters.CodeCounters codes;

    // Writer thread only.
    private KafkaProducer<byte[], byte[]> dlq;
    private boolean collectionReady;
    /** The collection written: the one of the job's vector space behind the alias. */
    private final String collection;
    private int dimension;

    // Mailbox thread only.
    private boolean bumpTimerPending;
    private boolean sealPending;

    MilvusSinkWriter(ElementConverter<ChunkTask, MilvusSinkEntry> converter, WriterInitContext context,
            AsyncSinkWriterConfiguration config, Collection<BufferedRequestState<MilvusSinkEntry>> restored,
            MilvusSink.Groups groups, MilvusSinkClient.Factory clientFactory, long maxRetryMs, AdaptiveWriteLimit limit) {
        this(converter, context, config, restored, groups, clientFactory, maxRetryMs, limit, new DequeRequestBuffer<>());
    }

    private MilvusSinkWriter(ElementConverter<ChunkTask, MilvusSinkEntry> converter, WriterInitContext context,
            AsyncSinkWriterConfiguration config, Collection<BufferedRequestState<MilvusSinkEntry>> restored,
            MilvusSink.Groups groups, MilvusSinkClient.Factory clientFactory, long maxRetryMs, AdaptiveWriteLimit limit,
            DequeRequestBuffer<MilvusSinkEntry> buffer) {
        super(converter, context, config, entriesOf(restored, false, config.getMaxRecordSizeInBytes()),
                new SimpleBatchCreator<>(config.getMaxBatchSizeInBytes()), buffer);
        this.milvus = groups.milvus();
        this.write = groups.write();
        this.kafka = groups.kafka();
        this.maxRetryMs = maxRetryMs;
        this.maxEntryBytes = config.getMaxRecordSizeInBytes();
        this.buffer = buffer;
        this.limit = limit;
        this.mailbox = context.getMailboxExecutor();
        this.time = context.getProcessingTimeService();
        this.deadLetters = groups.limits().deadLetters();
        entriesOf(restored, true, 0).forEach(s -> s.getBufferedRequestEntries()
                .forEach(w -> unbumped.add(w.getRequestEntry().tenant())));

        var group = context.metricGroup().addGroup("embedstream");
        rowsWritten = group.counter("milvusRowsWritten");
        documentsDeleted = group.counter("milvusDocumentsDeleted");
        documentsRejected = group.counter("milvusDocumentsRejected");
        retries = group.counter("milvusWriteRetries");
        writeMillis = group.histogram("milvusWriteMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("milvusBufferedRows", buffer::size);
        group.gauge("milvusWriteConcurrencyLimit", limit::rowsPerWrite);
        group.gauge("epochBumpsPending", unbumped::size);
        codes = new DeadLetters.CodeCounters(group);

        client = clientFactory.open(milvus);
        String bound;
        try {
            bound = bind(client, groups.binding(), context.getRestoredCheckpointId().isEmpty());
            // Refused at once, before any record: no restart can change a collection's id scheme.
            refuseOtherIdScheme(client.describe());
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        collection = bound != null ? bound : milvus.collection();
        redis = groups.cache().retrievalCacheOn() ? groups.cache().redisLink("epochs") : null;
        epochs = redis == null ? null : new CollectionEpochs(redis, collection);
        io = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "milvus-sink-writer");
            t.setDaemon(true);
            return t;
        });
        if (!unbumped.isEmpty()) {
            submit(this::retryBumps);
        }
    }

    /**
     * Binds the client to its model's collection behind the alias. A collection of another vector
     * space, or a plain collection of an earlier version, fails the job without restarts: no
     * restart changes what Milvus holds, and the message says what to run.
     */
    private static String bind(MilvusSinkClient client, MilvusSink.Binding binding, boolean freshStart) {
        if (binding == null) {
            return null;
        }
        try {
            return client.bind(binding.space(), binding.serving(), freshStart);
        } catch (CollectionAlias.SpaceMismatchException e) {
            throw new SuppressRestartsException(e);
        }
    }

    /**
     * The write entries ({@code bumps} false) or the pending epoch bumps of a restored state.
     * Sizes are capped again at {@code maxBytes}: the batch-bytes option may have shrunk since.
     */
    private static List<BufferedRequestState<MilvusSinkEntry>> entriesOf(
            Collection<BufferedRequestState<MilvusSinkEntry>> states, boolean bumps, long maxBytes) {
        List<RequestEntryWrapper<MilvusSinkEntry>> out = new ArrayList<>();
        for (BufferedRequestState<MilvusSinkEntry> s : states) {
            for (RequestEntryWrapper<MilvusSinkEntry> w : s.getBufferedRequestEntries()) {
                if ((w.getRequestEntry().kind() == MilvusSinkEntry.Kind.EPOCH_BUMP) == bumps) {
                    out.add(new RequestEntryWrapper<>(w.getRequestEntry(), Math.min(w.getSize(), maxBytes)));
                }
            }
        }
        return out.isEmpty() ? List.of() : List.of(new BufferedRequestState<>(out));
    }

    /**
     * Counts at most one batch's bytes: the batch creator never splits an entry, so an entry
     * larger than a batch would otherwise never be sent (and an over-large entry fail the job).
     */
    @Override
    protected long getSizeInBytes(MilvusSinkEntry entry) {
        return Math.min(entry.estimatedBytes(), maxEntryBytes);
    }

    @Override
    protected void submitRequestEntries(List<MilvusSinkEntry> entries, ResultHandler<MilvusSinkEntry> result) {
        scheduleSeal();
        try {
            io.execute(() -> {
                try {
                    write(entries);
                    result.complete();
                } catch (Exception e) {
                    result.completeExceptionally(e);
                } catch (Throwable t) { // an Error must fail the job too, not leave the request in flight
                    result.completeExceptionally(new RuntimeException(t));
                    throw t;
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e); // closing
        }
    }

    /** Drains at every checkpoint too (see the class comment): no write waits in the state. */
    @Override
    public void flush(boolean endOfInput) throws InterruptedException {
        super.flush(true);
    }

    @Override
    public List<BufferedRequestState<MilvusSinkEntry>> snapshotState(long checkpointId) {
        List<BufferedRequestState<MilvusSinkEntry>> states = super.snapshotState(checkpointId);
        List<String> pending;
        synchronized (unbumped) {
            pending = new ArrayList<>(unbumped);
        }
        if (pending.isEmpty()) {
            return states;
        }
        List<RequestEntryWrapper<MilvusSinkEntry>> all = new ArrayList<>();
        states.forEach(s -> all.addAll(s.getBufferedRequestEntries()));
        pending.forEach(t -> all.add(new RequestEntryWrapper<>(MilvusSinkEntry.epochBump(t), 0)));
        return List.of(new BufferedRequestState<>(all));
    }

    // ---- the writer thread ---------------------------------------------------------------------

    /** Applies one batch (see the class comment); throws only for what must fail the job. */
    private void write(List<MilvusSinkEntry> entries) throws InterruptedException {
        long t0 = System.nanoTime();
        long retriesBefore = retries.getCount();
        long deadline = System.currentTimeMillis() + maxRetryMs;
        Map<String, Document> byIdentity = new LinkedHashMap<>();
        for (MilvusSinkEntry e : entries) {
            byIdentity.computeIfAbsent(e.identity(), k -> new Document(e.tenant(), e.docId())).add(e);
        }
        List<Document> deletes = new ArrayList<>();
        List<Document> upserts = new ArrayList<>();
        for (Document d : byIdentity.values()) {
            if (d.deleted) {
                deletes.add(d);
            }
            if (!d.rows.isEmpty()) {
                upserts.add(d);
            }
        }
        // Rows no Milvus call could take (never produced upstream, but a single bad row must not
        // loop the job) are refused here; the batch's dimension is then checked against the collection.
        int vectorDimension = upserts.stream().flatMap(d -> d.rows.values().stream())
                .filter(e -> e.vector() != null).mapToInt(e -> e.vector().length).findFirst().orElse(0);
        for (Document d : upserts) {
            String malformed = d.malformed(vectorDimension);
            if (malformed != null) {
                reject(d, new Refused(new IllegalArgumentException(malformed)));
            }
        }
        upserts.removeIf(d -> d.refusal != null);
        // Without a collection there is nothing to delete.
        if (prepareCollection(vectorDimension, deadline)) {
            isolating("delete", deletes, deadline, ds -> byTenant(ds, (tenant, ids) -> client.deleteChunks(tenant, ids, 0)));
        }
        documentsDeleted.inc(deletes.stream().filter(d -> d.refusal == null).count());
        upserts.removeIf(d -> d.refusal != null);
        isolating("upsert", upserts, deadline, ds -> {
            List<ChunkRow> rows = new ArrayList<>();
            ds.forEach(d -> d.rows.values().forEach(e -> rows.add(e.row())));
            client.upsert(rows);
        });
        upserts.removeIf(d -> d.refusal != null);
        upserts.forEach(d -> rowsWritten.inc(d.rows.size()));
        // One tenant-scoped delete per (tenant, new chunk count).
        isolating("stale-chunk delete", upserts, deadline, ds -> {
            Map<String, Map<Integer, List<String>>> stale = new TreeMap<>();
            ds.forEach(d -> stale.computeIfAbsent(d.tenant, t -> new TreeMap<>())
                    .computeIfAbsent(d.chunkCount, c -> new ArrayList<>()).add(d.docId));
            stale.forEach((tenant, byCount) -> byCount.forEach((from, ids) -> client.deleteChunks(tenant, ids, from)));
        });
        long took = System.nanoTime() - t0;
        writeMillis.update(took / 1_000_000);
        limit.onWrite(entries.size(), took, retries.getCount() > retriesBefore);
        Set<String> tenants = new LinkedHashSet<>();
        byIdentity.values().forEach(d -> tenants.add(d.tenant));
        bump(tenants);
    }

    /**
     * A collection of an older id scheme would get every chunk duplicated instead of replaced:
     * the job fails without restarts, with the way to migrate.
     */
    private static void refuseOtherIdScheme(Optional<MilvusStore.CollectionFacts> facts) {
        if (facts.isPresent() && !facts.get().currentIdScheme()) {
            throw new SuppressRestartsException(new IllegalStateException(facts.get().idSchemeRefusal()));
        }
    }

    /**
     * Loads the collection, creating it (stamped) for the first upsert; false when there is none
     * yet (so nothing to delete). A collection of another id scheme or dimension than the
     * vectors fails the job without restarts.
     */
    private boolean prepareCollection(int vectorDimension, long deadline) throws InterruptedException {
        if (!collectionReady) {
            Optional<MilvusStore.CollectionFacts> facts = call("describe", deadline, client::describe);
            if (facts.isEmpty() && vectorDimension == 0) {
                return false;
            }
            refuseOtherIdScheme(facts);
            int want = facts.map(MilvusStore.CollectionFacts::dimension).orElse(vectorDimension);
            call("create or load", deadline, () -> {
                client.ensureCollection(want);
                return null;
            });
            // Another subtask may have created it first: trust what Milvus says, not what we asked.
            dimension = call("describe", deadline, client::describe).map(MilvusStore.CollectionFacts::dimension).orElse(want);
            collectionReady = true;
        }
        if (vectorDimension != 0 && vectorDimension != dimension) {
            throw new SuppressRestartsException(new IllegalStateException("Milvus collection '"
                    + collection + "' holds vectors of dimension " + dimension + ", but the model"
                    + " produces " + vectorDimension + "; set milvus.collection to a new name for this model and replay"
                    + " the documents topic from the earliest offset"));
        }
        return true;
    }

    /**
     * Runs {@code call} on {@code docs}; when Milvus refuses it, splits the documents in halves
     * until each refused document is found alone, and dead-letters it.
     */
    private void isolating(String what, List<Document> docs, long deadline, Consumer<List<Document>> call)
            throws InterruptedException {
        if (docs.isEmpty()) {
            return;
        }
        try {
            call(what, deadline, () -> {
                call.accept(docs);
                return null;
            });
        } catch (Refused r) {
            if (docs.size() == 1) {
                reject(docs.get(0), r);
                return;
            }
            int half = docs.size() / 2;
            isolating(what, docs.subList(0, half), deadline, call);
            isolating(what, docs.subList(half, docs.size()), deadline, call);
        }
    }

    private interface Call<T> {
        T run();
    }

    /**
     * Runs one Milvus call, retrying transient failures with capped backoff until the batch's
     * deadline; throws {@link Refused} for a refusal and {@link IllegalStateException} (the job
     * fails) when the deadline passes.
     */
    private <T> T call(String what, long deadline, Call<T> call) throws InterruptedException {
        long backoff = FIRST_BACKOFF_MS;
        while (true) {
            try {
                return call.run();
            } catch (RuntimeException e) {
                Exception[] verdict = {null};
                if (!NOT_RETRYABLE.isFatal(e, x -> verdict[0] = x)) {
                    if (verdict[0] instanceof Refused r) {
                        throw r;
                    }
                    throw new IllegalStateException("Milvus " + what + " of " + collection
                            + " interrupted", verdict[0]);
                }
                if (System.currentTimeMillis() + backoff > deadline) {
                    throw new IllegalStateException("Milvus " + what + " of " + collection
                            + " still failing after " + maxRetryMs + " ms", e);
                }
                retries.inc();
                LOG.warn("Milvus {} failed ({}); retrying in {} ms", what, e.getMessage(), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
            }
        }
    }

    /** Dead-letters a refused document and waits for Kafka to take it. */
    private void reject(Document d, Refused r) {
        Map<String, Object> more = new LinkedHashMap<>();
        more.put("op", d.rows.isEmpty() ? "delete" : "upsert");
        String metadataJson = null;
        if (!d.rows.isEmpty()) {
            metadataJson = d.rows.values().iterator().next().metadataJson();
            more.put("chunk_count", d.chunkCount);
            List<Map<String, Object>> chunks = new ArrayList<>();
            d.rows.values().forEach(e -> {
                Map<String, Object> chunk = new LinkedHashMap<>();
                chunk.put("chunk_index", e.chunkIndex());
                chunk.put("text", e.text()); // null for a malformed row: Map.of would throw here
                chunks.add(chunk);
            });
            more.put("chunks", chunks);
        }
        String reason = r.getCause() == null ? r.getMessage() : r.getCause().getMessage();
        DeadLetterRecord letter = deadLetters.of(d.origin, d.identity().getBytes(StandardCharsets.UTF_8), STAGE,
                CODE, reason, DeadLetters.documentPayload(d.tenant, d.docId, metadataJson, more), System.currentTimeMillis());
        try {
            dlq().send(new ProducerRecord<>(kafka.dlqTopic(), letter.key(), letter.json().getBytes(StandardCharsets.UTF_8)))
                    .get(DLQ_MAX_BLOCK_MS + DLQ_DELIVERY_TIMEOUT_MS + 5_000L, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the dead letter of a document Milvus refused (" + d.identity()
                    + ") could not be written to " + kafka.dlqTopic(), e);
        }
        d.refusal = reason;
        documentsRejected.inc();
        codes.inc(CODE);
        LOG.warn("Milvus refused document {} ({}); dead-lettered to {}", d.identity(), reason, kafka.dlqTopic());
    }

    private KafkaProducer<byte[], byte[]> dlq() {
        if (dlq == null) {
            Properties p = new Properties();
            p.putAll(kafka.properties());
            p.put("bootstrap.servers", kafka.bootstrap());
            p.put("client.id", "embedstream-milvus-sink-dlq");
            p.put("acks", "all");
            p.putIfAbsent("linger.ms", "0");
            p.putIfAbsent("max.block.ms", String.valueOf(DLQ_MAX_BLOCK_MS));
            p.putIfAbsent("request.timeout.ms", String.valueOf(DLQ_DELIVERY_TIMEOUT_MS / 2));
            p.putIfAbsent("delivery.timeout.ms", String.valueOf(DLQ_DELIVERY_TIMEOUT_MS));
            dlq = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return dlq;
    }

    private static void byTenant(List<Document> docs, java.util.function.BiConsumer<String, List<String>> call) {
        Map<String, List<String>> ids = new TreeMap<>();
        docs.forEach(d -> ids.computeIfAbsent(d.tenant, t -> new ArrayList<>()).add(d.docId));
        ids.forEach(call);
    }

    /** Bumps the epochs of tenants whose rows just changed, and of any still waiting. */
    private void bump(Collection<String> tenants) {
        if (epochs == null) {
            return;
        }
        List<String> all;
        synchronized (unbumped) {
            unbumped.addAll(tenants);
            Iterator<String> it = unbumped.iterator();
            while (unbumped.size() > MAX_PENDING_BUMPS) {
                it.next();
                it.remove(); // beyond this, the answer TTL bounds staleness
            }
            all = new ArrayList<>(unbumped);
        }
        // In chunks: producers choose tenants, and one script over many thousands of keys would
        // block Redis for every tenant and outlive redis.timeout, to be sent again on each retry.
        for (int from = 0; from < all.size(); from += BUMP_CHUNK) {
            List<String> chunk = all.subList(from, Math.min(all.size(), from + BUMP_CHUNK));
            if (!epochs.bump(chunk)) {
                try {
                    mailbox.execute(this::scheduleBumpRetry, "schedule an epoch bump retry");
                } catch (RejectedExecutionException e) {
                    // closing: the pending tenants are in the last snapshot or their writes replay
                }
                return;
            }
            synchronized (unbumped) {
                unbumped.removeAll(chunk);
            }
        }
    }

    private void retryBumps() {
        bump(List.of());
    }

    // ---- the mailbox thread --------------------------------------------------------------------

    private void scheduleBumpRetry() {
        if (bumpTimerPending) {
            return;
        }
        bumpTimerPending = true;
        time.registerTimer(time.getCurrentProcessingTime() + write.flushIntervalMs(), t -> {
            bumpTimerPending = false;
            submit(this::retryBumps);
        });
    }

    /** Seals once per interval after writes; a failed seal only costs search speed, so it is logged. */
    private void scheduleSeal() {
        if (sealPending || write.sealIntervalMs() <= 0) {
            return;
        }
        sealPending = true;
        time.registerTimer(time.getCurrentProcessingTime() + write.sealIntervalMs(), t -> {
            sealPending = false;
            submit(() -> {
                try {
                    client.seal();
                } catch (RuntimeException e) {
                    LOG.warn("sealing {} failed ({}); searches over new rows stay slower until the next seal",
                            collection, e.getMessage());
                }
            });
        });
    }

    private void submit(Runnable task) {
        try {
            io.execute(task);
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    @Override
    public void close() {
        io.shutdownNow();
        try {
            if (!io.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("the Milvus sink writer thread did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        client.close();
        if (redis != null) {
            redis.close();
        }
        if (dlq != null) {
            dlq.close(Duration.ofSeconds(5));
        }
    }

    /** False for errors some retry may fix: server code 1100 and the SDK's INVALID_PARAMS are not. */
    static boolean invalidParameters(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof MilvusClientException m
                    && (m.getErrorCode() == ErrorCode.INVALID_PARAMS || m.getServerErrCode() == 1100)) {
                return true;
            }
        }
        return false;
    }

    /** Milvus refused a call for a reason no retry can fix; its cause is Milvus' error. */
    static final class Refused extends RuntimeException {
        Refused(Throwable cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** One document's entries in a batch, reduced to what the batch must apply. */
    private static final class Document {
        final String tenant;
        final String docId;
        /** Where the document's latest event in the batch was read, for its dead letter. */
        Origin origin;
        /** Upserts after the last delete, by chunk index: the last version of a chunk wins. */
        final Map<Integer, MilvusSinkEntry> rows = new TreeMap<>();
        boolean deleted;
        int chunkCount;
        String refusal;

        Document(String tenant, String docId) {
            this.tenant = tenant;
            this.docId = docId;
        }

        void add(MilvusSinkEntry e) {
            origin = e.origin();
            if (e.kind() == MilvusSinkEntry.Kind.DELETE) {
                deleted = true;
                rows.clear();
            } else if (e.kind() == MilvusSinkEntry.Kind.UPSERT) {
                rows.put(e.chunkIndex(), e);
                chunkCount = e.chunkCount();
            }
        }

        String identity() {
            return DocumentChange.identity(tenant, docId);
        }

        /** Why a row of this document cannot be written, or null. */
        String malformed(int dimension) {
            for (MilvusSinkEntry e : rows.values()) {
                if (e.vector() == null || e.vector().length != dimension) {
                    return "chunk " + e.chunkIndex() + " has " + (e.vector() == null ? "no vector"
                            : "a vector of dimension " + e.vector().length + " in a batch of dimension " + dimension);
                }
                if (e.text() == null || e.contentHash() == null || e.metadataJson() == null) {
                    return "chunk " + e.chunkIndex() + " lacks its text, content hash or metadata";
                }
            }
            return null;
        }
    }
}
