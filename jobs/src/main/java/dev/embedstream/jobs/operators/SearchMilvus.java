package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.Fusion;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.model.Retrieval;
import dev.embedstream.jobs.metrics.TenantMetrics;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.settings.QuerySettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Searches Milvus for each embedded query, off the task thread, and turns the result into the
 * query's one terminal response: {@code ok} with hits, or {@code error} when Milvus fails or the
 * search outlives its budget.
 *
 * <p>Searches run under an adaptive concurrency limit ({@link SearchQueue}: Gradient2, between 1
 * and {@code query.max-in-flight}, following the measured search latency); a query without a
 * permit waits, and is answered {@code error} / {@code overloaded} as soon as its expected wait
 * puts it past its effective deadline ({@link QueryTask#effectiveDeadlineMs}: {@code deadline_ms},
 * or {@code query.max-latency} after it was sent), never late. That answer is kept for its
 * request id like any answer after dedup (a repeat must get one).
 *
 * <p> * An answer is stored in the retrieval cache under the key {@link EmbedQueries} gave the query
 * (and in the semantic cache under that key's group); the caches come from {@link Caches}, keyed
 * by the fingerprint of the same model as the query embedder's. Each query searches the collection
 * {@link EmbedQueries} routed it to (the one its vector was embedded for), and its answer names
 * that collection's model.
 */
public class SearchMilvus extends RichAsyncFunction<QueryTask, Reply> {

    private static final Logger LOG = LoggerFactory.getLogger(SearchMilvus.class);

    private final MilvusSettings milvus;
    private final QuerySettings query;
    private final CacheSettings cache;
    private final String modelName;
    private final EmbedderFactory model;
    private final VectorSpace space;
    private transient MilvusStore store;
    private transient Caches caches;
    private transient ThreadPoolExecutor executor;
    private transient SearchQueue<Pending> queue;
    /** Sheds waiting queries whose expected wait passed their deadline while no search ends. */
    private transient ScheduledExecutorService shedder;
    /** Collections loaded (and the job's own created) since the last failed search: whether each has a keyword index. */
    private transient Map<String, Boolean> ready;
    /** Runs the keyword leg of hybrid searches beside their dense leg (not on {@link #executor}: no waiting on oneself). */
    private transient ThreadPoolExecutor legs;
    /** The collection of the job's own space behind the alias (the alias itself without a space). */
    private transient String ownCollection;
    /** What ShedQueries reads: how long the slow path takes now. */
    private transient QueryPressure pressure;
    private transient Counter answered;
    private transient Counter failed;
    private transient Histogram searchMillis;
    /** Per mode: searches; per leg: Milvus time. */
    private transient Map<Retrieval.Mode, Counter> searchesByMode;
    private transient Map<String, Histogram> legMillis;
    private transient Counter keywordLegFailures;
    private transient Histogram endToEndMillis;
    private transient TenantMetrics<Counter> shed;

    /** A query waiting for, or holding, a search permit, with where its answer goes. */
    private record Pending(QueryTask q, ResultFuture<Reply> result) {}

    /** The most of a query's text its keyword leg searches (about 1,000 words). */
    static final int KEYWORD_TEXT_CHARS = 8192;

    /** How often waiting queries are checked against their deadlines. */
    private static final long SHED_CHECK_MS = 5;

    /**
     * @param modelSettings the query embedder's model: its name goes into answers
     * @param model the query embedder's model: its fingerprint keys the caches
     * @param space the job's own vector space: its collection is created here when no document made it yet
     */
    public SearchMilvus(MilvusSettings milvus, QuerySettings query, CacheSettings cache, ModelSettings modelSettings,
            EmbedderFactory model, VectorSpace space) {
        this.milvus = milvus;
        this.query = query;
        this.cache = cache;
        this.modelName = modelSettings.name();
        this.model = model;
        this.space = space;
    }

    @Override
    public void open(OpenContext ctx) {
        // As many threads as the limit may grant permits (idle ones end): the permits bound the searches.
        executor = new ThreadPoolExecutor(query.maxInFlight(), query.maxInFlight(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> daemon(r, "milvus-search"));
        executor.allowCoreThreadTimeOut(true);
        queue = new SearchQueue<>(query.maxInFlight(), query.maxInFlight(), System::currentTimeMillis, System::nanoTime,
                this::run, this::shed);
        shedder = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "milvus-search-shedder"));
        shedder.scheduleWithFixedDelay(queue::sweep, SHED_CHECK_MS, SHED_CHECK_MS, TimeUnit.MILLISECONDS);
        // As many as searches may run at once (each hybrid search waits for its one leg, cancelled
        // when it gives up), so the queue stays within the search permits.
        legs = new ThreadPoolExecutor(query.maxInFlight(), query.maxInFlight(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(query.maxInFlight()), r -> daemon(r, "milvus-keyword-leg"));
        legs.allowCoreThreadTimeOut(true);
        ready = new ConcurrentHashMap<>();
        pressure = QueryPressure.of(getRuntimeContext().getJobInfo().getJobId().toString());
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        // Without the retrieval cache there is nothing to key, so the model is not asked.
        // Keyed as EmbedQueries keys the job's own collection (answers carry their key with them).
        ownCollection = space != null ? space.collectionName(milvus.collection()) : milvus.collection();
        caches = Caches.forSearch(cache, ownCollection, cache.retrievalCacheOn() ? model.fingerprint() : "", group);
        answered = group.counter("queriesAnswered");
        failed = group.counter("queriesFailed");
        searchMillis = group.histogram("milvusSearchMillis", new DescriptiveStatisticsHistogram(1000));
        keywordLegFailures = group.counter("keywordLegFailures");
        searchesByMode = new EnumMap<>(Retrieval.Mode.class);
        for (Retrieval.Mode m : Retrieval.Mode.values()) {
            searchesByMode.put(m, group.addGroup("mode", m.label()).counter("searches"));
        }
        legMillis = Map.of(Fusion.DENSE, group.addGroup("leg", Fusion.DENSE).histogram("legMillis",
                new DescriptiveStatisticsHistogram(1000)), Fusion.KEYWORD, group.addGroup("leg", Fusion.KEYWORD)
                .histogram("legMillis", new DescriptiveStatisticsHistogram(1000)));
        endToEndMillis = group.histogram("queryLatencyMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("searchesInFlight", queue::inFlight);
        group.gauge("searchesWaiting", queue::waiting);
        group.gauge("searchConcurrencyLimit", queue::limit);
        // Tenants named in quotas are registered by AdmitQueries, which sheds into the same counter.
        shed = TenantMetrics.counters(group, List.of(), "queriesShed");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    @Override
    public void asyncInvoke(QueryTask q, ResultFuture<Reply> result) {
        long now = System.currentTimeMillis();
        if (q.expiredAt(now)) {
            result.complete(List.of(Replies.expired(q, now)));
            return;
        }
        queue.offer(new Pending(q, result), q.effectiveDeadlineMs(query.maxLatencyMs()));
    }

    /** Runs a query's search, which holds {@code permit} until it ends. */
    private void run(Pending p, SearchQueue.Permit permit) {
        QueryTask q = p.q();
        long started = System.currentTimeMillis();
        CompletableFuture<Reply> search;
        try {
            search = CompletableFuture.supplyAsync(() -> search(q), executor);
        } catch (RejectedExecutionException closing) {
            queue.failed(permit);
            failed.inc();
            p.result().complete(List.of(Replies.error(q, "search_failed", "the search operator is closing; retry", started)));
            return;
        }
        search.whenComplete((reply, error) -> {
            long done = System.currentTimeMillis();
            // A search that outlived its budget (answered by timeout()) says Milvus is slow.
            if (done - started >= query.searchTimeoutMs()) {
                queue.timedOut(permit);
            } else if (error != null) {
                queue.failed(permit);
            } else {
                queue.succeeded(permit);
            }
            if (error != null) {
                failed.inc();
                // A restarted Milvus has the collection but not loaded: load it again on the next search.
                ready.remove(collectionOf(q));
                Throwable cause = error.getCause() != null ? error.getCause() : error;
                p.result().complete(List.of(Replies.error(q, "search_failed", "Milvus search failed: " + cause.getMessage(), done)));
            } else {
                answered.inc();
                endToEndMillis.update(done - q.receivedAtMs());
                pressure.answered(done, done - q.receivedAtMs());
                p.result().complete(List.of(reply));
            }
        });
    }

    /** Answers a query that would get its answer past its deadline: now, instead of late. */
    private void shed(Pending p, long expectedWaitMs, long deadlineMs, long now) {
        QueryTask q = p.q();
        if (q.expiredAt(now)) {
            p.result().complete(List.of(Replies.expired(q, now)));
            return;
        }
        shed.of(q.tenant()).inc();
        p.result().complete(List.of(Replies.of(q, Replies.overloaded(q, expectedWaitMs, deadlineMs, now))));
    }

    /**
     * The client connects lazily, on a search thread: a Milvus that is down at start-up then
     * costs error answers until it is back, not a failing operator.
     */
    private synchronized Target store(String collection, int dimension) {
        if (store == null) {
            long rpc = Math.min(milvus.rpcTimeoutMs(), query.searchTimeoutMs());
            store = new MilvusStore(new MilvusSettings(milvus.uri(), milvus.token(), milvus.collection(), rpc,
                    Math.min(milvus.connectTimeoutMs(), query.searchTimeoutMs()), milvus.bm25Analyzer()));
        }
        if (!ready.containsKey(collection)) {
            if (space != null && collection.equals(ownCollection)) {
                // Before the first document there is no collection: create it (stamped, behind the
                // alias) so the answer is "no hits". A plain collection of an earlier version is
                // refused: the answer is search_failed with the way out; the sink stops the job.
                new CollectionAlias(store, milvus.collection()).ensure(space);
            } else if (space == null) {
                // Unrouted (a test of this operator alone): the configured collection, created unstamped.
                store.requireCurrentIdScheme();
                store.ensureCollection(dimension);
            } else {
                store.load(collection);
            }
            boolean keyword = store.hasKeywordIndex(collection);
            if (!keyword) {
                LOG.warn("collection {} has no BM25 keyword index (made dense-only: milvus.bm25.enabled=false, a Milvus"
                        + " without BM25 functions, or a version before keyword search): dense queries are answered,"
                        + " hybrid and keyword ones get mode_unsupported", collection);
            }
            ready.put(collection, keyword);
        }
        // Read under the lock, with the store: a failing search may forget the collection meanwhile.
        return new Target(store, ready.get(collection));
    }

    /** The client, and whether the collection a query searches has a keyword index. */
    private record Target(MilvusStore store, boolean keywordIndexed) {}

    /** The collection a query searches: its route, or the alias for a query routed by nobody (tests). */
    private String collectionOf(QueryTask q) {
        return q.collection() != null ? q.collection() : milvus.collection();
    }

    /** One Milvus search (two for hybrid), on a search thread (a test of the shedding overrides it with a slow one). */
    @SuppressWarnings("unchecked")
    Reply search(QueryTask q) {
        long t0 = System.nanoTime();
        String collection = collectionOf(q);
        Retrieval how = q.retrievalMode();
        Target target = store(collection, q.vector() == null ? 0 : q.vector().length);
        MilvusStore store = target.store();
        if (how.needsKeywordIndex() && !target.keywordIndexed()) {
            if (q.modeAsked() || q.vector() == null) {
                return Replies.error(q, "mode_unsupported", "mode " + how.mode().label() + " needs a BM25 keyword index,"
                        + " which collection " + collection + " has not (created dense-only: milvus.bm25.enabled=false, a"
                        + " Milvus without BM25 functions, or an earlier version); ask with mode dense",
                        System.currentTimeMillis());
            }
            // The job's default mode where the collection cannot serve it: dense, as before modes
            // existed (cached apart from queries that name a mode: QueryTask.cachedAs).
            how = Retrieval.DENSE;
        }
        searchesByMode.get(how.mode()).inc();
        Map<String, Object> filter = Json.read(q.filterJson(), Map.class);
        List<Hit> hits = switch (how.mode()) {
            case DENSE -> timed(Fusion.DENSE, () -> store.search(collection, q.vector(), q.tenant(), filter, q.topK()));
            case KEYWORD -> timed(Fusion.KEYWORD, () -> store.keywordSearch(collection, keywordText(q), q.tenant(), filter,
                    q.topK()));
            case HYBRID -> {
                int depth = Fusion.depth(q.topK());
                // Both legs at once: the keyword leg on its own pool, the dense one here.
                Future<List<Hit>> keyword = legs.submit(() -> timed(Fusion.KEYWORD,
                        () -> store.keywordSearch(collection, keywordText(q), q.tenant(), filter, depth)));
                List<Hit> dense;
                try {
                    dense = timed(Fusion.DENSE, () -> store.search(collection, q.vector(), q.tenant(), filter, depth));
                } catch (RuntimeException e) {
                    keyword.cancel(true); // the permit ends with this search: so does its other leg
                    throw e;
                }
                yield Fusion.fuse(how, dense, keywordLeg(keyword), q.topK());
            }
        };
        searchMillis.update((System.nanoTime() - t0) / 1_000_000);
        if (caches.answers != null && q.answerKey() != null) {
            caches.answers.put(q.answerKey(), hits);
            if (caches.semantic != null && q.retrievalMode().mode() == Retrieval.Mode.DENSE) {
                caches.semantic.put(SemanticCache.groupOf(q.answerKey()), q.vector(), hits);
            }
        }
        long took = System.currentTimeMillis() - q.receivedAtMs();
        return Replies.of(q, Response.ok(q.requestId(), hits, "miss", q.model() != null ? q.model() : modelName, took));
    }

    /**
     * The keyword leg's documents, waited for at most the search budget. A leg Milvus refuses (a
     * text with no term left after analysis, say) leaves the dense leg to answer alone, counted in
     * {@code keywordLegFailures}; a leg that cannot reach Milvus, or outlives the budget, fails the
     * search like a dense one would.
     */
    private List<Hit> keywordLeg(Future<List<Hit>> keyword) {
        try {
            return keyword.get(query.searchTimeoutMs(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (MilvusStore.unreachable(cause)) {
                throw new IllegalStateException("keyword leg: " + cause.getMessage(), cause);
            }
            keywordLegFailures.inc();
            return List.of();
        } catch (TimeoutException e) {
            keyword.cancel(true);
            throw new IllegalStateException("keyword leg: no answer from Milvus within query.search-timeout", e);
        } catch (InterruptedException e) {
            keyword.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("keyword leg interrupted", e);
        }
    }

    /**
     * The text the keyword leg searches: at most {@link #KEYWORD_TEXT_CHARS} characters. BM25 work
     * grows with the query's distinct terms, and the dense leg reads no further either (the model's
     * window).
     */
    static String keywordText(QueryTask q) {
        return q.text().length() <= KEYWORD_TEXT_CHARS ? q.text() : q.text().substring(0, KEYWORD_TEXT_CHARS);
    }

    private List<Hit> timed(String leg, Supplier<List<Hit>> search) {
        long t0 = System.nanoTime();
        List<Hit> hits = search.get();
        legMillis.get(leg).update((System.nanoTime() - t0) / 1_000_000);
        return hits;
    }

    @Override
    public void timeout(QueryTask q, ResultFuture<Reply> result) {
        failed.inc();
        // Still waiting for a permit: it must not start a search nobody waits for.
        boolean waited = queue.cancel(p -> p.q() == q);
        result.complete(List.of(Replies.error(q, "search_timeout",
                (waited ? "no Milvus search permit" : "no answer from Milvus") + " within query.search-timeout ("
                        + query.searchTimeoutMs() + " ms)",
                System.currentTimeMillis())));
    }

    @Override
    public void close() {
        if (shedder != null) {
            shedder.shutdownNow();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
        if (legs != null) {
            legs.shutdownNow();
        }
        if (store != null) {
            store.close();
        }
        if (caches != null) {
            caches.close();
        }
    }

    /** The caches built in {@code open()} (for tests). */
    Caches caches() {
        return caches;
    }
}
