package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.QueryTask;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * Gathers texts into micro-batches in front of the model, with two lanes: document chunks (input
 * 1) and queries (input 2). A lane's batch closes on its size, its padded-token budget or its
 * maximum wait; queries are always embedded before documents, so a document backlog delays a query
 * by at most one batch. Within a flush, texts are sorted by token length so each inference pads
 * little, and identical texts are embedded once. Embedded chunks leave in arrival order (deletes
 * in place); embedded queries leave through {@link #QUERIES}.
 *
 * <p>Nothing stays buffered across a checkpoint: both lanes are flushed before the barrier is
 * forwarded, so the operator needs no state and a failure loses nothing.
 */
public class EmbedBatcher extends AbstractStreamOperator<ChunkTask>
        implements TwoInputStreamOperator<ChunkTask, QueryTask, ChunkTask>, BoundedMultiInput {

    public static final OutputTag<QueryTask> QUERIES = new OutputTag<>("embedded-queries") {};

    private final JobSettings settings;
    private final EmbedderFactory embedderFactory;

    private transient Embedder embedder;
    private transient ArrayDeque<ChunkTask> docs;
    private transient ArrayDeque<QueryTask> queries;
    private transient int docTokens;
    private transient boolean docTimerPending;
    private transient boolean queryTimerPending;
    private transient Counter batches;
    private transient Counter textsEmbedded;
    private transient Counter duplicateTexts;
    private transient Histogram batchSize;
    private transient Histogram batchPaddedTokens;
    private transient Histogram modelMillis;

    public EmbedBatcher(JobSettings settings, EmbedderFactory embedderFactory) {
        this.settings = settings;
        this.embedderFactory = embedderFactory;
    }

    @Override
    public void open() throws Exception {
        super.open();
        embedder = embedderFactory.open();
        docs = new ArrayDeque<>();
        queries = new ArrayDeque<>();
        var group = getMetricGroup().addGroup("embedstream");
        batches = group.counter("batches");
        textsEmbedded = group.counter("textsEmbedded");
        duplicateTexts = group.counter("batchDuplicateTexts");
        batchSize = group.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        batchPaddedTokens = group.histogram("batchPaddedTokens", new DescriptiveStatisticsHistogram(1000));
        modelMillis = group.histogram("modelMillisPerBatch", new DescriptiveStatisticsHistogram(1000));
        group.gauge("documentLaneDepth", () -> docs.size());
        group.gauge("queryLaneDepth", () -> queries.size());
    }

    @Override
    public void processElement1(StreamRecord<ChunkTask> element) {
        ChunkTask task = element.getValue();
        docs.add(task);
        docTokens += task.tokens();
        if (docs.size() >= settings.batchMaxSize()
                || docTokens >= settings.batchMaxTokens()
                || docs.size() >= settings.batchMaxBuffered()) {
            flushDocuments();
        } else if (!docTimerPending) {
            docTimerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + settings.batchDocMaxWaitMs();
            getProcessingTimeService().registerTimer(at, t -> {
                docTimerPending = false;
                flushDocuments();
            });
        }
    }

    @Override
    public void processElement2(StreamRecord<QueryTask> element) {
        queries.add(element.getValue());
        if (queries.size() >= settings.batchMaxSize()) {
            flushQueries();
        } else if (!queryTimerPending) {
            queryTimerPending = true;
            long at = getProcessingTimeService().getCurrentProcessingTime() + settings.batchQueryMaxWaitMs();
            getProcessingTimeService().registerTimer(at, t -> {
                queryTimerPending = false;
                flushQueries();
            });
        }
    }

    /** Queries first: a waiting query never sits behind the document batch about to run. */
    private void flushDocuments() {
        flushQueries();
        if (docs.isEmpty()) {
            return;
        }
        List<ChunkTask> batch = new ArrayList<>(docs);
        docs.clear();
        docTokens = 0;
        List<String> texts = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        for (ChunkTask t : batch) {
            if (t.op() == Op.UPSERT) {
                texts.add(t.text());
                tokens.add(t.tokens());
            }
        }
        float[][] vectors = embedAll(texts, tokens);
        int i = 0;
        for (ChunkTask t : batch) {
            ChunkTask out = t.op() == Op.UPSERT ? t.withVector(vectors[i++]) : t;
            output.collect(new StreamRecord<>(out));
        }
    }

    private void flushQueries() {
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
        List<String> texts = new ArrayList<>(live.size());
        List<Integer> tokens = new ArrayList<>(live.size());
        for (QueryTask q : live) {
            texts.add(q.text());
            tokens.add(estimateTokens(q.text()));
        }
        float[][] vectors;
        try {
            vectors = embedAll(texts, tokens);
        } catch (RuntimeException e) {
            // A query must get an answer, not a restarted job.
            for (QueryTask q : live) {
                output.collect(Replies.TAG, new StreamRecord<>(
                        Replies.error(q, "embedding_failed", "the model failed on this batch: " + e.getMessage(), now)));
            }
            return;
        }
        for (int i = 0; i < live.size(); i++) {
            output.collect(QUERIES, new StreamRecord<>(live.get(i).withVector(vectors[i])));
        }
    }

    /**
     * Embeds each distinct text once, in length-sorted batches bounded by size and padded tokens
     * (rows x longest row), and returns the vectors in input order.
     */
    private float[][] embedAll(List<String> texts, List<Integer> tokens) {
        Map<String, Integer> firstIndex = new HashMap<>();
        List<Integer> unique = new ArrayList<>();
        int[] source = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            Integer seen = firstIndex.putIfAbsent(texts.get(i), i);
            if (seen == null) {
                unique.add(i);
                source[i] = i;
            } else {
                source[i] = seen;
                duplicateTexts.inc();
            }
        }
        unique.sort(Comparator.comparingInt(tokens::get));
        float[][] byIndex = new float[texts.size()][];
        int start = 0;
        while (start < unique.size()) {
            int end = start;
            int longest = 0;
            while (end < unique.size() && end - start < settings.batchMaxSize()) {
                int t = Math.min(tokens.get(unique.get(end)), settings.modelMaxTokens());
                int longer = Math.max(longest, t);
                if (end > start && (long) longer * (end - start + 1) > settings.batchMaxTokens()) {
                    break;
                }
                longest = longer;
                end++;
            }
            List<String> batchTexts = new ArrayList<>(end - start);
            for (int k = start; k < end; k++) {
                batchTexts.add(texts.get(unique.get(k)));
            }
            long t0 = System.nanoTime();
            float[][] v = embedder.embed(batchTexts);
            modelMillis.update((System.nanoTime() - t0) / 1_000_000);
            batches.inc();
            textsEmbedded.inc(batchTexts.size());
            batchSize.update(batchTexts.size());
            batchPaddedTokens.update((long) longest * batchTexts.size());
            for (int k = start; k < end; k++) {
                byIndex[unique.get(k)] = v[k - start];
            }
            start = end;
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            out[i] = byIndex[source[i]];
        }
        return out;
    }

    /** Queries are short; a cheap estimate suffices for ordering and the token budget. */
    private static int estimateTokens(String text) {
        return text.length() / 4 + 2;
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        flushDocuments();
    }

    @Override
    public void endInput(int inputId) {
        if (inputId == 1) {
            flushDocuments();
        } else {
            flushQueries();
        }
    }

    @Override
    public void finish() throws Exception {
        flushDocuments();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        if (embedder != null) {
            embedder.close();
        }
        super.close();
    }
}
