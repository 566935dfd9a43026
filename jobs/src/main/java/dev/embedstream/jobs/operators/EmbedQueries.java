package dev.embedstream.jobs.operators;

import dev.embedstream.common.cache.RedisEmbeddingCache;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.QueryTask;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Embeds queries in micro-batches that wait at most {@code batch.queries.max-wait}. It runs in
 * its own task, apart from document embedding, so a document backlog or a stalled Milvus write
 * never holds a query back. An expired query is answered {@code expired}; a model failure is an
 * {@code error} answer, never a failed job. Queries are embedded before every checkpoint barrier.
 */
public class EmbedQueries extends AbstractStreamOperator<QueryTask>
        implements OneInputStreamOperator<QueryTask, QueryTask>, BoundedOneInput {

    private final JobSettings settings;
    private final EmbedderFactory embedderFactory;
    private transient BatchEmbedder model;
    private transient ArrayDeque<QueryTask> queries;
    private transient boolean timerPending;

    public EmbedQueries(JobSettings settings, EmbedderFactory embedderFactory) {
        this.settings = settings;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void open() throws Exception {
        super.open();
        var group = getMetricGroup().addGroup("embedstream");
        model = new BatchEmbedder(settings, embedderFactory, group, (padded, millis) -> { });
        queries = new ArrayDeque<>();
        group.gauge("queryLaneDepth", () -> queries.size());
    }

    @Override
    public void processElement(StreamRecord<QueryTask> element) {
        queries.add(element.getValue());
        if (queries.size() >= settings.batchMaxSize()) {
            flush();
        } else if (!timerPending) {
            timerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + settings.batchQueryMaxWaitMs();
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
        if (live.isEmpty()) {
            return;
        }
        List<RedisEmbeddingCache.Key> keys = new ArrayList<>(live.size());
        List<Integer> tokens = new ArrayList<>(live.size());
        for (QueryTask q : live) {
            keys.add(new RedisEmbeddingCache.Key(q.tenant(), q.text()));
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
        for (int i = 0; i < live.size(); i++) {
            output.collect(new StreamRecord<>(live.get(i).withVector(vectors[i])));
        }
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
