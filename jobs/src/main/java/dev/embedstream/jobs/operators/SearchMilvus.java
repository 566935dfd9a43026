package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.settings.QuerySettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Searches Milvus for each embedded query, off the task thread, and turns the result into the
 * query's one terminal response: {@code ok} with hits, or {@code error} when Milvus fails or the
 * search outlives its budget. In-flight searches are bounded by the async operator's capacity.
 * An answer is stored in the retrieval cache under the key {@link EmbedQueries} gave the query
 * (and in the semantic cache under that key's group); the caches come from {@link Caches}, keyed
 * by the fingerprint of the same model as the query embedder's.
 */
public class SearchMilvus extends RichAsyncFunction<QueryTask, Reply> {

    private final MilvusSettings milvus;
    private final QuerySettings query;
    private final CacheSettings cache;
    private final String modelName;
    private final EmbedderFactory model;
    private transient MilvusStore store;
    private transient Caches caches;
    private transient ThreadPoolExecutor executor;
    private transient volatile boolean collectionReady;
    private transient Counter answered;
    private transient Counter failed;
    private transient Histogram searchMillis;
    private transient Histogram endToEndMillis;

    /**
     * @param modelSettings the query embedder's model: its name goes into answers
     * @param model the query embedder's model: its fingerprint keys the caches
     */
    public SearchMilvus(MilvusSettings milvus, QuerySettings query, CacheSettings cache, ModelSettings modelSettings,
            EmbedderFactory model) {
        this.milvus = milvus;
        this.query = query;
        this.cache = cache;
        this.modelName = modelSettings.name();
        this.model = model;
    }

    @Override
    public void open(OpenContext ctx) {
        int threads = Math.min(query.maxInFlight(), 8);
        executor = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(query.maxInFlight()), r -> {
                    Thread t = new Thread(r, "milvus-search");
                    t.setDaemon(true);
                    return t;
                });
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        // Without the retrieval cache there is nothing to key, so the model is not asked.
        caches = Caches.forSearch(cache, milvus.collection(), cache.retrievalCacheOn() ? model.fingerprint() : "", group);
        answered = group.counter("queriesAnswered");
        failed = group.counter("queriesFailed");
        searchMillis = group.histogram("milvusSearchMillis", new DescriptiveStatisticsHistogram(1000));
        endToEndMillis = group.histogram("queryLatencyMillis", new DescriptiveStatisticsHistogram(1000));
        group.gauge("searchesInFlight", () -> executor.getActiveCount() + executor.getQueue().size());
    }

    @Override
    public void asyncInvoke(QueryTask q, ResultFuture<Reply> result) {
        long now = System.currentTimeMillis();
        if (q.expiredAt(now)) {
            result.complete(List.of(Replies.expired(q, now)));
            return;
        }
        CompletableFuture<Reply> search;
        try {
            search = CompletableFuture.supplyAsync(() -> search(q), executor);
        } catch (RejectedExecutionException e) {
            failed.inc();
            result.complete(List.of(Replies.error(q, "overloaded", "too many searches in flight; retry", now)));
            return;
        }
        search.whenComplete((reply, error) -> {
            long done = System.currentTimeMillis();
            if (error != null) {
                failed.inc();
                // A restarted Milvus has the collection but not loaded: load it again on the next search.
                collectionReady = false;
                Throwable cause = error.getCause() != null ? error.getCause() : error;
                result.complete(List.of(Replies.error(q, "search_failed", "Milvus search failed: " + cause.getMessage(), done)));
            } else {
                answered.inc();
                endToEndMillis.update(done - q.receivedAtMs());
                result.complete(List.of(reply));
            }
        });
    }

    /**
     * The client connects lazily, on a search thread: a Milvus that is down at start-up then
     * costs error answers until it is back, not a failing operator.
     */
    private synchronized MilvusStore store(int dimension) {
        if (store == null) {
            long rpc = Math.min(milvus.rpcTimeoutMs(), query.searchTimeoutMs());
            store = new MilvusStore(new MilvusSettings(milvus.uri(), milvus.token(), milvus.collection(), rpc,
                    Math.min(milvus.connectTimeoutMs(), query.searchTimeoutMs())));
        }
        if (!collectionReady) {
            // An earlier version's collection would answer with rows of the old id scheme: refuse
            // (the answer is search_failed with the migration message; the sink stops the job).
            store.requireCurrentIdScheme();
            // Before the first document there is no collection; create it so the answer is "no hits".
            store.ensureCollection(dimension);
            collectionReady = true;
        }
        return store;
    }

    @SuppressWarnings("unchecked")
    private Reply search(QueryTask q) {
        long t0 = System.nanoTime();
        MilvusStore store = store(q.vector().length);
        Map<String, Object> filter = Json.read(q.filterJson(), Map.class);
        List<Hit> hits = store.search(q.vector(), q.tenant(), filter, q.topK());
        searchMillis.update((System.nanoTime() - t0) / 1_000_000);
        if (caches.answers != null && q.answerKey() != null) {
            caches.answers.put(q.answerKey(), hits);
            if (caches.semantic != null) {
                caches.semantic.put(SemanticCache.groupOf(q.answerKey()), q.vector(), hits);
            }
        }
        long took = System.currentTimeMillis() - q.receivedAtMs();
        return Replies.of(q, Response.ok(q.requestId(), hits, "miss", modelName, took));
    }

    @Override
    public void timeout(QueryTask q, ResultFuture<Reply> result) {
        failed.inc();
        result.complete(List.of(Replies.error(q, "search_timeout",
                "no answer from Milvus within query.search-timeout (" + query.searchTimeoutMs() + " ms)",
                System.currentTimeMillis())));
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
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
