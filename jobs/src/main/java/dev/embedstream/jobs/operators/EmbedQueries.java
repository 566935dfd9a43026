package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.model.Retrieval;
import dev.embedstream.common.milvus.CollectionAlias.Route;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.jobs.settings.BatchSettings;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Answers queries from the retrieval cache, and embeds the rest in micro-batches that wait at
 * most {@code batch.queries.max-wait}. A query whose tenant epoch is fresh in memory and whose
 * answer is in the in-process cache is answered on arrival; the others are looked up in Redis
 * with one MGET per batch (epochs and answers), and what misses is embedded and sent on to
 * {@link SearchMilvus} carrying the key its answer will be cached under; with the semantic cache
 * on, an embedded query close enough to an earlier one of its group is answered here. It runs in
 * its own task, apart from document embedding, so a document backlog or a stalled Milvus write
 * never holds a query back. An expired query is answered {@code expired}; a model failure is an
 * {@code error} answer, never a failed job. Queries are embedded before every checkpoint barrier.
 */
public class EmbedQueries extends AbstractStreamOperator<QueryTask>
        implements OneInputStreamOperator<QueryTask, QueryTask>, BoundedOneInput {

    /** Models loaded at once: the job's own and the ones the alias was swapped to since. */
    static final int MAX_MODELS = 3;

    private final ModelSettings modelSettings;
    private final BatchSettings batching;
    private final CacheSettings cache;
    private final MilvusSettings milvus;
    private final VectorSpace space;
    private final long aliasRefreshMs;
    private final EmbedderFactory embedderFactory;
    private AliasFollower.Source aliasSource = AliasFollower.Source.milvus();
    /** Per collection routed to: its model and caches; the first is the job's own. */
    private transient LinkedHashMap<String, BatchEmbedder> models;
    private transient String ownCollection;
    private transient AliasFollower alias;
    private transient MetricGroup group;
    private transient ArrayDeque<QueryTask> queries;
    private transient boolean timerPending;

    /**
     * @param milvus the alias queries follow ({@code milvus.collection})
     * @param space the job's own vector space, whose collection answers until the alias is read
     */
    public EmbedQueries(ModelSettings model, BatchSettings batch, CacheSettings cache, MilvusSettings milvus,
            VectorSpace space, long aliasRefreshMs, EmbedderFactory embedderFactory) {
        this.modelSettings = model;
        this.batching = batch;
        this.cache = cache;
        this.milvus = milvus;
        this.space = space;
        this.aliasRefreshMs = aliasRefreshMs;
        this.embedderFactory = embedderFactory;
    }

    /** Where the alias is read from: Milvus, or in a unit test of this operator a fake. */
    EmbedQueries withAliasSource(AliasFollower.Source source) {
        this.aliasSource = source;
        return this;
    }

    @Override
    public void open() throws Exception {
        super.open();
        group = getMetricGroup().addGroup("embedstream");
        ownCollection = space.collectionName(milvus.collection());
        models = new LinkedHashMap<>(4, 0.75f, true);
        models.put(ownCollection, new BatchEmbedder(modelSettings, cache, ownCollection, embedderFactory, group,
                (padded, millis) -> { }));
        alias = new AliasFollower(new Route(ownCollection, space), milvus, aliasRefreshMs, aliasSource);
        queries = new ArrayDeque<>();
        group.gauge("queryLaneDepth", () -> queries.size());
        group.gauge("aliasServesOwnCollection", () -> alias.current().collection().equals(ownCollection) ? 1 : 0);
    }

    /**
     * The model of {@code route}'s collection, loaded on first use: the alias may have been
     * swapped to a collection of another model (a migration). Throws when that model cannot be
     * loaded here or is not the one the collection is stamped with.
     */
    private BatchEmbedder modelOf(Route route) {
        BatchEmbedder m = models.get(route.collection());
        if (m != null) {
            return m;
        }
        ModelSettings other = modelSettings.following(route.space());
        // Opened once: its dimension completes the space it is checked against.
        m = new BatchEmbedder(other, cache, route.collection(), embedderFactory.forModel(other),
                group.addGroup("followed_model", route.space().model()), (padded, millis) -> { });
        VectorSpace loaded = other.space(m.dimension());
        if (!loaded.equals(route.space())) {
            m.close();
            throw new IllegalStateException("collection " + route.collection() + " is stamped " + route.space().describe()
                    + " but model " + other.name() + " here is " + loaded.describe());
        }
        models.put(route.collection(), m);
        for (Iterator<Map.Entry<String, BatchEmbedder>> it = models.entrySet().iterator(); models.size() > MAX_MODELS; ) {
            Map.Entry<String, BatchEmbedder> eldest = it.next();
            if (!eldest.getKey().equals(ownCollection) && !eldest.getKey().equals(route.collection())) {
                eldest.getValue().close();
                it.remove();
            }
        }
        return m;
    }

    @Override
    public void processElement(StreamRecord<QueryTask> element) {
        QueryTask asked = element.getValue();
        long now = System.currentTimeMillis();
        long wait = asked.deadlineMs() > 0 ? Math.min(milvus.rpcTimeoutMs(), asked.deadlineMs() - now) : milvus.rpcTimeoutMs();
        Route route = alias.await(asked.receivedAtMs(), wait);
        if (route == null) { // never a guess: after a swap the old route would answer from the old space
            long at = System.currentTimeMillis();
            // Not kept for its request id: a retry under the same id must be answered anew.
            output.collect(Replies.TAG, new StreamRecord<>(asked.expiredAt(at) ? Replies.expired(asked, at)
                    : Replies.unkept(Response.error(asked.requestId(), "search_failed", "where the alias "
                            + milvus.collection() + " points could not be read from Milvus within " + Math.max(0, wait)
                            + " ms; retry", at - asked.receivedAtMs()).withTenant(asked.tenant()), asked.replyPartition())));
            return;
        }
        QueryTask q = asked.withRoute(route.collection(), route.space().model());
        BatchEmbedder model;
        try {
            model = modelOf(route);
        } catch (RuntimeException e) {
            output.collect(Replies.TAG, new StreamRecord<>(Replies.error(q, "model_unavailable",
                    "the alias serves " + route.collection() + ", whose model cannot be loaded here: " + e.getMessage(),
                    System.currentTimeMillis())));
            return;
        }
        RetrievalCache answers = model.caches().answers;
        Epoch epoch = answers == null ? null : answers.freshEpoch(q.tenant());
        if (epoch != null) {
            List<Hit> hits = answers.getL1(answerKey(answers, q, epoch));
            if (hits != null && !q.expiredAt(System.currentTimeMillis())) {
                model.caches().retrieval.count(1, 0);
                output.collect(Replies.TAG, new StreamRecord<>(cachedAnswer(q, hits, "hit")));
                return;
            }
        }
        queries.add(q);
        if (queries.size() >= batching.maxSize()) {
            flush();
        } else if (!timerPending) {
            timerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + batching.queriesMaxWaitMs();
            getProcessingTimeService().registerTimer(at, t -> {
                timerPending = false;
                flush();
            });
        }
    }

    private void flush() {
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
        // Queries routed before a swap and after it sit in one lane: each group goes to its model.
        Map<String, List<QueryTask>> byRoute = new LinkedHashMap<>();
        for (QueryTask q : live) {
            byRoute.computeIfAbsent(q.collection(), c -> new ArrayList<>()).add(q);
        }
        for (List<QueryTask> routed : byRoute.values()) {
            BatchEmbedder model = models.get(routed.get(0).collection());
            if (model == null) { // its model was closed since the query came in: answer, never drop
                for (QueryTask q : routed) {
                    output.collect(Replies.TAG, new StreamRecord<>(Replies.error(q, "model_unavailable",
                            "the alias moved between more than " + MAX_MODELS + " collections within one batch; retry", now)));
                }
            } else {
                embed(model, routed, now);
            }
        }
    }

    private void embed(BatchEmbedder model, List<QueryTask> routed, long now) {
        List<QueryTask> live = new ArrayList<>(routed.size());
        for (QueryTask q : answerFromCache(model, routed)) {
            if (q.retrievalMode().needsVector()) {
                live.add(q);
            } else {
                output.collect(new StreamRecord<>(q)); // keyword: Milvus analyzes the text, no model work
            }
        }
        if (live.isEmpty()) {
            return;
        }
        List<EmbeddingCache.Key> keys = new ArrayList<>(live.size());
        List<Integer> tokens = new ArrayList<>(live.size());
        for (QueryTask q : live) {
            keys.add(EmbeddingCache.Key.of(q.tenant(), q.text()));
            tokens.add(q.text().length() / 4 + 2); // queries are short: an estimate orders them well enough
        }
        float[][] vectors;
        try {
            vectors = model.embed(keys, tokens);
        } catch (RuntimeException e) {
            for (QueryTask q : live) {
                output.collect(Replies.TAG, new StreamRecord<>(
                        Replies.error(q, "embedding_failed", "the model failed on this batch: " + e.getMessage(), now)));
            }
            return;
        }
        SemanticCache semantic = model.caches().semantic;
        for (int i = 0; i < live.size(); i++) {
            QueryTask q = live.get(i).withVector(vectors[i]);
            // Only dense answers follow vector similarity; a keyword leg's answer may not.
            boolean semanticOn = semantic != null && q.retrievalMode().mode() == Retrieval.Mode.DENSE;
            List<Hit> near = !semanticOn || q.answerKey() == null ? null
                    : semantic.find(SemanticCache.groupOf(q.answerKey()), q.vector());
            if (semanticOn) {
                model.caches().near.count(near == null ? 0 : 1, near == null ? 1 : 0);
            }
            if (near != null) {
                output.collect(Replies.TAG, new StreamRecord<>(cachedAnswer(q, near, "semantic")));
            } else {
                output.collect(new StreamRecord<>(q));
            }
        }
    }

    private String answerKey(RetrievalCache answers, QueryTask q, Epoch epoch) {
        return answers.key(q.tenant(), epoch, q.cachedAs(), q.text(), q.topK(), q.filterJson());
    }

    private Reply cachedAnswer(QueryTask q, List<Hit> hits, String how) {
        long took = System.currentTimeMillis() - q.receivedAtMs();
        return Replies.of(q, Response.ok(q.requestId(), hits, how, q.model(), took));
    }

    /**
     * Answers what the retrieval cache holds at the tenants' current epochs; the rest go on with
     * the key to store their answer under (none when the epoch could not be read).
     */
    private List<QueryTask> answerFromCache(BatchEmbedder model, List<QueryTask> live) {
        RetrievalCache answers = model.caches().answers;
        if (answers == null) {
            return live;
        }
        Map<String, Epoch> epochs = answers.epochs(live.stream().map(QueryTask::tenant).toList());
        List<QueryTask> keyed = new ArrayList<>(live.size());
        List<String> keys = new ArrayList<>();
        for (QueryTask q : live) {
            Epoch epoch = epochs.get(q.tenant());
            String key = epoch == null ? null : answerKey(answers, q, epoch);
            keyed.add(q.withAnswerKey(key));
            if (key != null) {
                keys.add(key);
            }
        }
        Map<String, List<Hit>> found = answers.getAll(keys);
        List<QueryTask> misses = new ArrayList<>(keyed.size());
        for (QueryTask q : keyed) {
            List<Hit> hits = q.answerKey() == null ? null : found.get(q.answerKey());
            if (hits != null) {
                output.collect(Replies.TAG, new StreamRecord<>(cachedAnswer(q, hits, "hit")));
            } else {
                misses.add(q);
            }
        }
        model.caches().retrieval.count(keyed.size() - misses.size(), misses.size());
        return misses;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flush();
    }

    @Override
    public void endInput() {
        flush();
    }

    @Override
    public void close() throws Exception {
        if (alias != null) {
            alias.close();
        }
        if (models != null) {
            models.values().forEach(BatchEmbedder::close);
        }
        super.close();
    }
}
