package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The batcher in Flink's operator harness, with a fake embedder that records its batches. */
class EmbedBatcherTest {

    /** Batches the fake model saw, in order; static because the factory is serialized. */
    static final List<List<String>> CALLS = Collections.synchronizedList(new ArrayList<>());
    static volatile boolean failQueries;

    static final class RecordingEmbedder implements Embedder {
        @Override
        public float[][] embed(List<String> texts) {
            CALLS.add(List.copyOf(texts));
            if (failQueries && texts.stream().anyMatch(t -> t.startsWith("q:"))) {
                throw new IllegalStateException("model exploded");
            }
            float[][] out = new float[texts.size()][];
            for (int i = 0; i < texts.size(); i++) {
                out[i] = new float[] {texts.get(i).length(), 1};
            }
            return out;
        }

        @Override
        public String fingerprint() {
            return "recording";
        }

        @Override
        public void close() {}
    }

    private TwoInputStreamOperatorTestHarness<ChunkTask, QueryTask, ChunkTask> harness;

    @BeforeEach
    void setUp() throws Exception {
        CALLS.clear();
        failQueries = false;
        harness = open(null);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static TwoInputStreamOperatorTestHarness<ChunkTask, QueryTask, ChunkTask> open(OperatorSubtaskState state)
            throws Exception {
        return open(state, TestSettings.with("batch.max-size", "4", "batch.max-buffered", "8",
                "batch.documents.max-wait", "50ms", "batch.queries.max-wait", "5ms"));
    }

    private static TwoInputStreamOperatorTestHarness<ChunkTask, QueryTask, ChunkTask> open(
            OperatorSubtaskState state, JobSettings settings) throws Exception {
        EmbedBatcher op = new EmbedBatcher(settings, RecordingEmbedder::new);
        var h = new TwoInputStreamOperatorTestHarness<>(op);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static ChunkTask chunk(String doc, String text) {
        return new ChunkTask(doc, Op.UPSERT, "default", 0, 1, text, text.length() / 4 + 2, "h", "{}", null);
    }

    private static QueryTask query(String id, String text, long deadline) {
        return new QueryTask(id, "q:" + text, 5, "default", "{}", deadline, -1, System.currentTimeMillis(), null);
    }

    private List<ChunkTask> emitted() {
        return harness.extractOutputValues();
    }

    @Test
    void documentBatchClosesWhenFull() throws Exception {
        for (int i = 0; i < 4; i++) {
            harness.processElement1(new StreamRecord<>(chunk("d" + i, "text " + i)));
        }
        assertThat(emitted()).hasSize(4).allSatisfy(c -> assertThat(c.vector()).isNotNull());
        assertThat(CALLS).hasSize(1);
    }

    @Test
    void partialBatchClosesAfterMaxWait() throws Exception {
        harness.setProcessingTime(0);
        harness.processElement1(new StreamRecord<>(chunk("d", "alone")));
        harness.setProcessingTime(49);
        assertThat(emitted()).isEmpty();
        harness.setProcessingTime(50);
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("d");
    }

    @Test
    void identicalTextsInABatchAreEmbeddedOnce() throws Exception {
        for (int i = 0; i < 4; i++) {
            harness.processElement1(new StreamRecord<>(chunk("d" + i, "same text")));
        }
        assertThat(CALLS).containsExactly(List.of("same text"));
        assertThat(emitted()).hasSize(4).allSatisfy(c -> assertThat(c.vector()).containsExactly(9f, 1f));
    }

    @Test
    void batchesAreSortedByLengthButLeaveInArrivalOrderWithDeletesInPlace() throws Exception {
        harness.processElement1(new StreamRecord<>(chunk("a", "a fairly long text here")));
        harness.processElement1(new StreamRecord<>(ChunkTask.delete("b", "default")));
        harness.processElement1(new StreamRecord<>(chunk("c", "tiny")));
        harness.processElement1(new StreamRecord<>(chunk("d", "medium text")));
        harness.endInput1();
        assertThat(CALLS).containsExactly(List.of("tiny", "medium text", "a fairly long text here"));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("a", "b", "c", "d");
        assertThat(emitted().get(1).op()).isEqualTo(Op.DELETE);
    }

    @Test
    void waitingQueriesAreEmbeddedBeforeTheDocumentBatch() throws Exception {
        harness.processElement2(new StreamRecord<>(query("q1", "question", 0)));
        for (int i = 0; i < 4; i++) {
            harness.processElement1(new StreamRecord<>(chunk("d" + i, "document " + i)));
        }
        assertThat(CALLS).hasSize(2);
        assertThat(CALLS.get(0)).containsExactly("q:question");
        assertThat(harness.getSideOutput(EmbedBatcher.QUERIES)).extracting(r -> r.getValue().requestId()).containsExactly("q1");
    }

    @Test
    void bufferedChunksSurviveSnapshotAndRestoreWithoutModelWorkAtTheBarrier() throws Exception {
        harness.processElement1(new StreamRecord<>(chunk("d1", "one")));
        harness.processElement1(new StreamRecord<>(chunk("d2", "two")));
        harness.processElement2(new StreamRecord<>(query("q", "pending", 0)));
        harness.prepareSnapshotPreBarrier(1);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        assertThat(CALLS).as("only the query is embedded at the barrier").containsExactly(List.of("q:pending"));
        assertThat(emitted()).isEmpty();

        // The job fails; the restored operator still holds both chunks and finishes them.
        harness.close();
        harness = open(snapshot);
        harness.endInput1();
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("d1", "d2");
    }

    @Test
    void scalingInFromTwoToOneMergesBothLanesAndLosesNothing() throws Exception {
        JobSettings settings = TestSettings.with("batch.max-size", "4", "batch.documents.max-wait", "10s");
        OperatorSubtaskState[] snapshots = new OperatorSubtaskState[2];
        String[][] perSubtask = {{"a1", "a2"}, {"b1"}};
        for (int sub = 0; sub < 2; sub++) {
            try (var h = new TwoInputStreamOperatorTestHarness<>(new EmbedBatcher(settings, RecordingEmbedder::new), 128, 2, sub)) {
                h.setup();
                h.open();
                for (String id : perSubtask[sub]) {
                    h.processElement1(new StreamRecord<>(chunk(id, "text of " + id)));
                }
                snapshots[sub] = h.snapshot(1, 1);
                assertThat(h.extractOutputValues()).isEmpty();
            }
        }
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repartitionOperatorState(
                AbstractStreamOperatorTestHarness.repackageState(snapshots), 128, 2, 1, 0);
        try (var h = new TwoInputStreamOperatorTestHarness<>(new EmbedBatcher(settings, RecordingEmbedder::new), 128, 1, 0)) {
            h.setup();
            h.initializeState(merged);
            h.open();
            h.endInput1();
            assertThat(h.extractOutputValues()).extracting(ChunkTask::docId).containsExactlyInAnyOrder("a1", "a2", "b1");
            assertThat(h.extractOutputValues()).allSatisfy(c -> assertThat(c.vector()).isNotNull());
        }
    }

    @Test
    void expiredQueryIsAnsweredExpiredWithoutModelWork() throws Exception {
        harness.processElement2(new StreamRecord<>(query("late", "too late", 1)));
        harness.prepareSnapshotPreBarrier(1);
        assertThat(CALLS).isEmpty();
        List<Reply> replies = harness.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).collect(Collectors.toList());
        assertThat(replies).extracting(Reply::requestId, Reply::status).containsExactly(org.assertj.core.groups.Tuple.tuple("late", "expired"));
    }

    @Test
    void aDocumentBacklogRunsAtMostOneBatchPerIncomingChunk() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "2", "batch.max-buffered", "4",
                "batch.documents.max-wait", "10s"));
        for (int i = 0; i < 20; i++) {
            int before = CALLS.size();
            harness.processElement1(new StreamRecord<>(chunk("d" + i, "chunk number " + i)));
            assertThat(CALLS.size() - before).isLessThanOrEqualTo(1);
        }
        harness.processElement2(new StreamRecord<>(query("q", "between batches", 0)));
        int before = CALLS.size();
        harness.processElement1(new StreamRecord<>(chunk("next1", "one more chunk")));
        harness.processElement1(new StreamRecord<>(chunk("next2", "and another one")));
        // The query is embedded before the next document batch, alone.
        assertThat(CALLS.size()).isGreaterThan(before);
        assertThat(CALLS.get(before)).containsExactly("q:between batches");
        harness.prepareSnapshotPreBarrier(1);
        assertThat(emitted()).extracting(ChunkTask::docId).startsWith("d0", "d1", "d2").hasSize(22).endsWith("next1", "next2");
    }

    @Test
    void oldestChunkIsInTheNextBatchWithItsNeighboursInLength() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "5", "batch.max-buffered", "5",
                "model.max-tokens", "128", "chunk.max-tokens", "128", "batch.max-tokens", "256",
                "batch.documents.max-wait", "10s"));
        harness.processElement1(new StreamRecord<>(chunk("long1", "x".repeat(400))));
        harness.processElement1(new StreamRecord<>(chunk("short1", "tiny")));
        harness.processElement1(new StreamRecord<>(chunk("short2", "wee")));
        harness.processElement1(new StreamRecord<>(chunk("long2", "y".repeat(396))));
        // Lane full at 5: the batch is the oldest (long1) with the closest in length (long2); a
        // third 102-token row would pass the 256-token target.
        harness.processElement1(new StreamRecord<>(chunk("short3", "mini")));
        assertThat(CALLS).hasSize(1);
        assertThat(CALLS.get(0)).containsExactlyInAnyOrder("x".repeat(400), "y".repeat(396));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("long1");
    }

    @Test
    void textsCachedInRedisSkipTheModel() throws Exception {
        JobSettings withRedis = TestSettings.with("batch.max-size", "2", "redis.uri", TestServers.redisUri());
        String unique = java.util.UUID.randomUUID().toString();
        var first = open(null, withRedis);
        first.processElement1(new StreamRecord<>(chunk("a", "cached one " + unique)));
        first.processElement1(new StreamRecord<>(chunk("b", "cached two " + unique)));
        List<ChunkTask> computed = first.extractOutputValues();
        first.close();
        assertThat(CALLS).hasSize(1);

        var second = open(null, withRedis);
        second.processElement1(new StreamRecord<>(chunk("a", "cached one " + unique)));
        second.processElement1(new StreamRecord<>(chunk("b", "cached two " + unique)));
        List<ChunkTask> cached = second.extractOutputValues();
        second.close();
        assertThat(CALLS).as("model calls").hasSize(1);
        assertThat(cached.get(0).vector()).containsExactly(computed.get(0).vector());
        assertThat(cached.get(1).vector()).containsExactly(computed.get(1).vector());
    }

    @Test
    void modelFailureOnQueriesGivesErrorResponsesNotAFailedJob() throws Exception {
        failQueries = true;
        harness.processElement2(new StreamRecord<>(query("q1", "boom", 0)));
        harness.prepareSnapshotPreBarrier(1);
        List<Reply> replies = harness.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
        assertThat(replies).hasSize(1);
        assertThat(replies.get(0).status()).isEqualTo("error");
        assertThat(replies.get(0).json()).contains("embedding_failed");
    }
}
