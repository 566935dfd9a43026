package dev.embedstream.jobs.operators;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.milvus.CollectionAlias.Route;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.model.ResponseBudget;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * The cache-hit fast path, chained to the query source: a query whose answer is in this JVM's
 * retrieval cache (L1) under its tenant's fresh epoch, for the collection the alias serves, is
 * answered here, through {@link #ANSWERED} to a response sink chained to this operator, with no
 * network exchange and no wait behind queries that need the model or Milvus. Everything else goes
 * on unchanged to dedup, the embedder and the search.
 *
 * <p>Epochs are never read on the task thread: a background thread refreshes, every half
 * {@code cache.retrieval.epoch-refresh}, the epochs of the tenants asked about in the last 30 s
 * (at most 10,000; one Redis call), so an answer served here is no older than the cache's own
 * promise (the last committed write plus that interval). A tenant whose epoch is not fresh (its
 * first query, or Redis unreadable) goes the slow way.
 *
 * <p>Request ids keep their meaning. Queries with one request id come through one Kafka partition,
 * so one subtask sees them all: it remembers the digest of each (tenant, request id) it saw for
 * {@code dedup.query-ttl} (within {@code query.fast-path.remembered-bytes}, least recently seen out)
 * and answers a different query under a used request id {@code request_id_conflict}, as
 * {@link DedupQueries} does; a repeat of the same query goes the slow way, where the first answer
 * is re-sent or, if that was given here, computed again (the same query, the same answer unless a
 * write came between). Past the remembered bound, or after the query topic's partitions move, a
 * conflict this subtask has forgotten is left to dedup, which only knows the queries it computed.
 */
public class AnswerCachedQueries extends ProcessFunction<QueryTask, QueryTask> {

    /** Answers given here; the pipeline sinks them to the responses topic in this task. */
    public static final OutputTag<Reply> ANSWERED = new OutputTag<>("answered-from-cache") {};

    /** Tenants whose epochs are kept fresh, at most (the least recently asked about drop out). */
    static final int MAX_TENANTS_PER_REFRESH = 10_000;
    /** A tenant's epoch is kept fresh this long after its last query. */
    static final Duration KEEP_FRESH = Duration.ofSeconds(30);

    private final boolean enabled;
    private final CacheSettings cache;
    private final MilvusSettings milvus;
    private final VectorSpace space;
    private final long aliasRefreshMs;
    private final EmbedderFactory model;
    private final long rememberMs;
    private final long rememberBytes;
    private final int responseMaxBytes;

    private transient Caches caches;
    private transient AliasFollower alias;
    private transient String ownCollection;
    private transient Cache<String, String> seen;
    private transient Cache<String, Boolean> askedTenants;
    private transient ScheduledExecutorService refresher;
    private transient Counter hits;
    private transient Counter conflicts;
    private transient Histogram answerMillis;

    /**
     * @param enabled false: no query is answered here ({@code query.fast-path.enabled}); request ids are still checked
     * @param space the job's own vector space: only answers of its collection are served here
     * @param rememberMs how long a (tenant, request id) is remembered ({@code dedup.query-ttl})
     * @param rememberBytes the heap they may take per subtask
     */
    public AnswerCachedQueries(boolean enabled, CacheSettings cache, MilvusSettings milvus, VectorSpace space,
            long aliasRefreshMs, EmbedderFactory model, long rememberMs, long rememberBytes, int responseMaxBytes) {
        this.enabled = enabled;
        this.cache = cache;
        this.milvus = milvus;
        this.space = space;
        this.aliasRefreshMs = aliasRefreshMs;
        this.model = model;
        this.rememberMs = rememberMs;
        this.rememberBytes = rememberBytes;
        this.responseMaxBytes = responseMaxBytes;
    }

    @Override
    public void open(OpenContext ctx) {
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        hits = group.counter("fastPathAnswers");
        conflicts = group.counter("requestIdConflicts");
        answerMillis = group.histogram("fastPathAnswerMillis", new DescriptiveStatisticsHistogram(1000));
        // Weighed as the heap the two strings and the entry take (UTF-16, Caffeine's node).
        seen = Caffeine.newBuilder().maximumWeight(rememberBytes)
                .weigher((String key, String digest) -> 2 * (key.length() + digest.length()) + 120)
                .expireAfterWrite(Duration.ofMillis(rememberMs)).executor(Runnable::run).build();
        if (!enabled || !cache.retrievalCacheOn() || cache.redisUri() == null) {
            return; // no fast path: every query goes the slow way, request ids are still checked
        }
        ownCollection = space.collectionName(milvus.collection());
        caches = Caches.forSearch(cache, ownCollection, model.fingerprint(), group);
        alias = new AliasFollower(new Route(ownCollection, space), milvus, aliasRefreshMs);
        askedTenants = Caffeine.newBuilder().maximumSize(MAX_TENANTS_PER_REFRESH).expireAfterWrite(KEEP_FRESH)
                .executor(Runnable::run).build();
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "fast-path-epochs");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(20, cache.epochRefreshMs() / 2);
        refresher.scheduleWithFixedDelay(this::refreshEpochs, 0, every, TimeUnit.MILLISECONDS);
    }

    private void refreshEpochs() {
        try {
            caches.answers.refresh(List.copyOf(askedTenants.asMap().keySet()));
        } catch (RuntimeException e) {
            // Redis trouble: the epochs age out and queries go the slow way, which reports it.
        }
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) {
        String first = seen.getIfPresent(q.key());
        if (first != null && !first.equals(q.digest())) {
            conflicts.inc();
            ctx.output(Replies.TAG, Replies.conflict(q, System.currentTimeMillis()));
            return;
        }
        if (first != null || caches == null) {
            seen.put(q.key(), q.digest());
            out.collect(q); // a repeat: dedup re-sends the first answer
            return;
        }
        seen.put(q.key(), q.digest());
        Reply answer = fromCache(q);
        if (answer != null) {
            ctx.output(ANSWERED, answer);
        } else {
            out.collect(q);
        }
    }

    /** The answer from L1, or null when the alias serves another collection, the epoch is not fresh or L1 misses. */
    private Reply fromCache(QueryTask q) {
        // Only on a route read recently enough for this query: a follower that has not read the
        // alias lately (Milvus slow, or a restart after a swap) must not serve its own collection's
        // answers while the alias may have moved; the embedder waits for a read then. After a
        // swap, the embedder's caches of the served collection answer.
        Route route = alias.knownFor(q.receivedAtMs());
        if (route == null || !route.collection().equals(ownCollection)) {
            return null;
        }
        RetrievalCache answers = caches.answers;
        askedTenants.put(q.tenant(), Boolean.TRUE);
        Epoch epoch = answers.freshEpoch(q.tenant());
        List<Hit> found = epoch == null ? null
                : answers.getL1(answers.key(q.tenant(), epoch, q.cachedAs(), q.text(), q.topK(), q.filterJson()));
        long now = System.currentTimeMillis();
        if (found == null || q.expiredAt(now)) {
            return null;
        }
        hits.inc();
        answerMillis.update(now - q.receivedAtMs());
        Reply reply = Replies.of(q, Response.ok(q.requestId(), found, "hit", route.space().model(), now - q.receivedAtMs()));
        return reply.withJson(ResponseBudget.fit(reply.json(), responseMaxBytes));
    }

    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
        if (alias != null) {
            alias.close();
        }
        if (caches != null) {
            caches.close();
        }
    }
}
