package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.cache.EmbeddingCache;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.jobs.settings.BatchSettings;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    private final ModelSettings modelSettings;
    private final BatchSettings batching;
    private final CacheSettings cache;
    private final String collection;
    private final EmbedderFactory embedderFactory;
    private transient BatchEmbedder model;
    private transient ArrayDeque<QueryTask> queries;
    private transient boolean timerPending;

    /** @param milvus the collection whose answers the retrieval cache holds (its keys name it) */
    public EmbedQueries(ModelSettings model, BatchSettings batch, CacheSettings cache, MilvusSettings milvus,
            EmbedderFactory embedderFactory) {
        this.modelSettings = model;
        this.batching = batch;
        this.cache = cache;
        this.collection = milvus.collection();
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void open() throws Exception {
        super.open();
        var group = getMetricGroup().addGroup("embedstream");
        model = new BatchEmbedder(modelSettings, cache, collection, embedderFactory, group, (padded, millis) -> { });
        queries = new ArrayDeque<>();
        group.gauge("queryLaneDepth", () -> queries.size());
    }

    @Override
    public void processElement(StreamRecord<QueryTask> element) {
        QueryTask q = element.getValue();
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
        live = answerFromCache(live);
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
            List<Hit> near = semantic == null || q.answerKey() == null ? null
                    : semantic.find(SemanticCache.groupOf(q.answerKey()), q.vector());
            if (semantic != null) {
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
        return answers.key(q.tenant(), epoch, q.text(), q.topK(), q.filterJson());
    }

    private Reply cachedAnswer(QueryTask q, List<Hit> hits, String how) {
        long took = System.currentTimeMillis() - q.receivedAtMs();
        return Replies.of(q, Response.ok(q.requestId(), hits, how, modelSettings.name(), took));
    }

    /**
     * Answers what the retrieval cache holds at the tenants' current epochs; the rest go on with
     * the key to store their answer under (none when the epoch could not be read).
     */
    private List<QueryTask> answerFromCache(List<QueryTask> live) {
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
        if (model != null) {
            model.close();
        }
        super.close();
    }
}
