package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.ChunkTask;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The document embedder in Flink's operator harness, with a fake model that records its batches. */
class EmbedDocumentsTest {

    private OneInputStreamOperatorTestHarness<ChunkTask, ChunkTask> harness;

    @BeforeEach
    void setUp() throws Exception {
        RecordingEmbedder.reset();
        harness = open(null);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static OneInputStreamOperatorTestHarness<ChunkTask, ChunkTask> open(OperatorSubtaskState state)
            throws Exception {
        return open(state, TestSettings.with("batch.max-size", "4", "batch.max-buffered", "8",
                "batch.documents.max-wait", "50ms", "batch.queries.max-wait", "5ms"));
    }

    static OneInputStreamOperatorTestHarness<ChunkTask, ChunkTask> open(
            OperatorSubtaskState state, JobSettings settings) throws Exception {
        EmbedDocuments op = TestOperators.embedDocuments(settings, RecordingEmbedder::new);
        var h = new OneInputStreamOperatorTestHarness<>(op);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    /** Package-private with the two-argument open: EmbedDocumentsITCase drives the same harness. */
    static ChunkTask chunk(String doc, String text) {
        return new ChunkTask(doc, Op.UPSERT, "default", 0, 1, text, text.length() / 4 + 2, "h", "{}", null, null);
    }

    private static ChunkTask chunkOf(String tenant, String doc, String text) {
        return new ChunkTask(doc, Op.UPSERT, tenant, 0, 1, text, text.length() / 4 + 2, "h", "{}", null, null);
    }

    private List<ChunkTask> emitted() {
        return harness.extractOutputValues();
    }

    @Test
    void aFullBatchRunsAMillisecondLaterWithoutWaitingForMaxWait() throws Exception {
        harness.setProcessingTime(0);
        for (int i = 0; i < 4; i++) {
            harness.processElement(new StreamRecord<>(chunk("d" + i, "text " + i)));
        }
        assertThat(emitted()).as("the input gets its turn first").isEmpty();
        harness.setProcessingTime(1);
        assertThat(emitted()).hasSize(4).allSatisfy(c -> assertThat(c.vector()).isNotNull());
        assertThat(RecordingEmbedder.CALLS).hasSize(1);
    }

    @Test
    void theLaneIsBoundedInBytesAsWellAsInCount() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.strategy", "FIXED", "batch.max-size", "64",
                "batch.max-buffered", "256", "batch.max-buffered-bytes", "64kb", "batch.documents.max-wait", "1h"));
        String big = "w".repeat(20_000); // 40 KB in memory: the second one reaches the bound
        harness.processElement(new StreamRecord<>(chunk("d1", big)));
        assertThat(emitted()).isEmpty();
        harness.processElement(new StreamRecord<>(chunk("d2", big + "x")));
        assertThat(emitted()).as("the byte bound closed a batch long before 64 chunks or the wait").hasSize(2);
    }

    @Test
    void partialBatchClosesAfterMaxWait() throws Exception {
        harness.setProcessingTime(0);
        harness.processElement(new StreamRecord<>(chunk("d", "alone")));
        harness.setProcessingTime(49);
        assertThat(emitted()).isEmpty();
        harness.setProcessingTime(50);
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("d");
    }

    @Test
    void identicalTextsInABatchAreEmbeddedOnce() throws Exception {
        for (int i = 0; i < 4; i++) {
            harness.processElement(new StreamRecord<>(chunk("d" + i, "same text")));
        }
        harness.setProcessingTime(1);
        assertThat(RecordingEmbedder.CALLS).containsExactly(List.of("same text"));
        assertThat(emitted()).hasSize(4).allSatisfy(c -> assertThat(c.vector()).containsExactly(9f, 1f));
    }

    @Test
    void batchesAreSortedByLengthButLeaveInArrivalOrderWithDeletesInPlace() throws Exception {
        harness.processElement(new StreamRecord<>(chunk("a", "a fairly long text here")));
        harness.processElement(new StreamRecord<>(ChunkTask.delete("b", "default", null)));
        harness.processElement(new StreamRecord<>(chunk("c", "tiny")));
        harness.processElement(new StreamRecord<>(chunk("d", "medium text")));
        harness.endInput();
        assertThat(RecordingEmbedder.CALLS).containsExactly(List.of("tiny", "medium text", "a fairly long text here"));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("a", "b", "c", "d");
        assertThat(emitted().get(1).op()).isEqualTo(Op.DELETE);
    }

    @Test
    void bufferedChunksSurviveSnapshotAndRestoreWithoutModelWorkAtTheBarrier() throws Exception {
        harness.processElement(new StreamRecord<>(chunk("d1", "one")));
        harness.processElement(new StreamRecord<>(chunk("d2", "two")));
        harness.prepareSnapshotPreBarrier(1);
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        assertThat(RecordingEmbedder.CALLS).as("no model work at the barrier").isEmpty();
        assertThat(emitted()).isEmpty();

        // The job fails; the restored operator still holds both chunks and finishes them.
        harness.close();
        harness = open(snapshot);
        harness.endInput();
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("d1", "d2");
    }

    @Test
    void scalingInFromTwoToOneMergesBothLanesAndLosesNothing() throws Exception {
        JobSettings settings = TestSettings.with("batch.max-size", "4", "batch.documents.max-wait", "10s");
        OperatorSubtaskState[] snapshots = new OperatorSubtaskState[2];
        String[][] perSubtask = {{"a1", "a2"}, {"b1"}};
        for (int sub = 0; sub < 2; sub++) {
            try (var h = new OneInputStreamOperatorTestHarness<>(TestOperators.embedDocuments(settings, RecordingEmbedder::new), 128, 2, sub)) {
                h.setup();
                h.open();
                for (String id : perSubtask[sub]) {
                    h.processElement(new StreamRecord<>(chunk(id, "text of " + id)));
                }
                snapshots[sub] = h.snapshot(1, 1);
                assertThat(h.extractOutputValues()).isEmpty();
            }
        }
        OperatorSubtaskState merged = AbstractStreamOperatorTestHarness.repartitionOperatorState(
                AbstractStreamOperatorTestHarness.repackageState(snapshots), 128, 2, 1, 0);
        try (var h = new OneInputStreamOperatorTestHarness<>(TestOperators.embedDocuments(settings, RecordingEmbedder::new), 128, 1, 0)) {
            h.setup();
            h.initializeState(merged);
            h.open();
            h.endInput();
            assertThat(h.extractOutputValues()).extracting(ChunkTask::docId).containsExactlyInAnyOrder("a1", "a2", "b1");
            assertThat(h.extractOutputValues()).allSatisfy(c -> assertThat(c.vector()).isNotNull());
        }
    }

    @Test
    void aDocumentBacklogRunsAtMostOneBatchPerIncomingChunk() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "2", "batch.max-buffered", "4",
                "batch.documents.max-wait", "10s"));
        for (int i = 0; i < 20; i++) {
            int before = RecordingEmbedder.CALLS.size();
            harness.processElement(new StreamRecord<>(chunk("d" + i, "chunk number " + i)));
            assertThat(RecordingEmbedder.CALLS.size() - before).isLessThanOrEqualTo(1);
        }
        harness.endInput();
        assertThat(emitted()).extracting(ChunkTask::docId).startsWith("d0", "d1", "d2").hasSize(20).endsWith("d19");
    }

    @Test
    void oldestChunkIsInTheNextBatchWithItsNeighboursInLength() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "5", "batch.max-buffered", "5",
                "model.max-tokens", "128", "chunk.max-tokens", "128", "batch.max-tokens", "256",
                "batch.documents.max-wait", "10s"));
        harness.processElement(new StreamRecord<>(chunk("long1", "x".repeat(400))));
        harness.processElement(new StreamRecord<>(chunk("short1", "tiny")));
        harness.processElement(new StreamRecord<>(chunk("short2", "wee")));
        harness.processElement(new StreamRecord<>(chunk("long2", "y".repeat(396))));
        // Lane full at 5: the batch is the oldest (long1) with the closest in length (long2); a
        // third 102-token row would pass the 256-token target.
        harness.processElement(new StreamRecord<>(chunk("short3", "mini")));
        assertThat(RecordingEmbedder.CALLS).hasSize(1);
        assertThat(RecordingEmbedder.CALLS.get(0)).containsExactlyInAnyOrder("x".repeat(400), "y".repeat(396));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("long1");
    }

    @Test
    void fixedStrategyBatchesInArrivalOrderWhateverTheLengths() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.strategy", "FIXED", "batch.max-size", "2",
                "batch.max-buffered", "8", "batch.documents.max-wait", "10s"));
        harness.processElement(new StreamRecord<>(chunk("long1", "x".repeat(400))));
        harness.processElement(new StreamRecord<>(chunk("short1", "tiny")));
        harness.processElement(new StreamRecord<>(chunk("long2", "y".repeat(396))));
        harness.processElement(new StreamRecord<>(chunk("short2", "wee")));
        assertThat(RecordingEmbedder.CALLS).containsExactly(
                List.of("tiny", "x".repeat(400)), List.of("wee", "y".repeat(396)));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("long1", "short1", "long2", "short2");
    }

    @Test
    void textsInTheInProcessCacheSkipTheBatcherAndKeepTheirPlace() throws Exception {
        harness.processElement(new StreamRecord<>(chunk("a", "known text")));
        harness.setProcessingTime(50);
        assertThat(emitted()).hasSize(1);
        assertThat(RecordingEmbedder.CALLS).hasSize(1);

        // Same text (with other whitespace) in another document: out at once, no batch, no wait.
        harness.processElement(new StreamRecord<>(chunk("b", "  known\ttext ")));
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("a", "b");
        assertThat(emitted().get(1).vector()).containsExactly(emitted().get(0).vector());
        assertThat(RecordingEmbedder.CALLS).hasSize(1);

        // Behind a chunk still waiting for its batch, a cached one waits its turn (arrival order).
        harness.processElement(new StreamRecord<>(chunk("c", "new text")));
        harness.processElement(new StreamRecord<>(chunk("d", "known text")));
        assertThat(emitted()).hasSize(2);
        harness.setProcessingTime(200);
        assertThat(emitted()).extracting(ChunkTask::docId).containsExactly("a", "b", "c", "d");
        assertThat(RecordingEmbedder.CALLS).as("only the new text went to the model")
                .containsExactly(List.of("known text"), List.of("new text"));
    }
    @Test
    void aSingleUpdateOfTenantBBehindTenantAsThousandChunksIsEmbeddedWithinTwoBatches() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "16", "batch.max-buffered", "2000",
                "batch.documents.max-wait", "10s"));
        harness.setProcessingTime(0);
        for (int i = 0; i < 1000; i++) {
            harness.processElement(new StreamRecord<>(chunkOf("A", "a" + i, "backfill chunk number " + i)));
        }
        harness.processElement(new StreamRecord<>(chunkOf("B", "b", "the update of tenant B")));
        assertThat(RecordingEmbedder.CALLS).as("the lane took the backlog in before embedding").isEmpty();

        harness.setProcessingTime(1);
        harness.setProcessingTime(2);
        assertThat(RecordingEmbedder.CALLS).hasSize(2);
        assertThat(RecordingEmbedder.CALLS.get(0)).as("tenant B has its turn in the first batch")
                .contains("the update of tenant B");
        assertThat(emitted()).extracting(ChunkTask::docId).contains("b");

        harness.endInput();
        assertThat(emitted()).hasSize(1001);
        assertThat(emitted()).filteredOn(c -> c.tenant().equals("A")).extracting(ChunkTask::docId)
                .as("a tenant's chunks leave in its arrival order")
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 1000).mapToObj(i -> "a" + i).toList());
    }

    @Test
    void anUpsertThenADeleteOfOneDocumentLeaveInArrivalOrderWhileAnotherTenantOvertakes() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "2", "batch.max-buffered", "100",
                "batch.documents.max-wait", "10s"));
        harness.setProcessingTime(0);
        harness.processElement(new StreamRecord<>(chunkOf("A", "x", "a long first version of document x")));
        harness.processElement(new StreamRecord<>(chunkOf("A", "y", "short")));
        harness.processElement(new StreamRecord<>(chunkOf("A", "z", "tiny")));
        harness.processElement(new StreamRecord<>(ChunkTask.delete("x", "A", null)));
        harness.processElement(new StreamRecord<>(chunkOf("B", "x", "tenant B's own x")));
        for (int t = 1; t <= 10; t++) {
            harness.setProcessingTime(t);
        }
        harness.endInput();
        List<String> order = emitted().stream().map(c -> c.tenant() + ":" + c.docId() + ":" + c.op()).toList();
        assertThat(order).hasSize(5);
        assertThat(order.indexOf("A:x:UPSERT")).isLessThan(order.indexOf("A:x:DELETE"));
        assertThat(order).filteredOn(e -> e.startsWith("A:"))
                .containsExactly("A:x:UPSERT", "A:y:UPSERT", "A:z:UPSERT", "A:x:DELETE");
        assertThat(order.indexOf("B:x:UPSERT")).as("chunks of another tenant may overtake").isLessThan(order.indexOf("A:z:UPSERT"));
    }

    @Test
    void snapshotAndRestoreKeepBothTenantsWaitingChunks() throws Exception {
        harness.close();
        harness = open(null, TestSettings.with("batch.max-size", "8", "batch.max-buffered", "100",
                "batch.documents.max-wait", "10s"));
        for (String id : List.of("a1", "a2", "a3")) {
            harness.processElement(new StreamRecord<>(chunkOf("A", id, "text of " + id)));
        }
        harness.processElement(new StreamRecord<>(chunkOf("B", "b1", "text of b1")));
        harness.processElement(new StreamRecord<>(ChunkTask.delete("a1", "A", null)));
        harness.processElement(new StreamRecord<>(chunkOf("B", "b2", "text of b2")));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        assertThat(emitted()).isEmpty();

        harness.close();
        harness = open(snapshot, TestSettings.with("batch.max-size", "8", "batch.max-buffered", "100",
                "batch.documents.max-wait", "10s"));
        harness.endInput();
        List<String> order = emitted().stream().map(c -> c.tenant() + ":" + c.docId() + ":" + c.op()).toList();
        assertThat(order).filteredOn(e -> e.startsWith("A:"))
                .containsExactly("A:a1:UPSERT", "A:a2:UPSERT", "A:a3:UPSERT", "A:a1:DELETE");
        assertThat(order).filteredOn(e -> e.startsWith("B:")).containsExactly("B:b1:UPSERT", "B:b2:UPSERT");
        assertThat(emitted()).filteredOn(c -> c.op() == Op.UPSERT).allSatisfy(c -> assertThat(c.vector()).isNotNull());
    }

    @Test
    void aTenantOverItsTokenQuotaIsSlowedToItsRateWhileTheOtherIsNotAndNothingIsDropped() throws Exception {
        harness.close();
        // Tenant A may have 100 tokens per second embedded (a burst of 100); B has no limit.
        harness = open(null, TestSettings.with("batch.max-size", "4", "batch.max-buffered", "100",
                "batch.documents.max-wait", "50ms", "quota.documents.tenants", "A:100"));
        harness.setProcessingTime(0);
        for (int i = 0; i < 30; i++) { // 30 chunks of 12 tokens: 360 tokens, 260 past the burst
            harness.processElement(new StreamRecord<>(chunkOf("A", "a" + i, String.format("A%039d", i))));
        }
        for (int i = 0; i < 8; i++) {
            harness.processElement(new StreamRecord<>(chunkOf("B", "b" + i, String.format("B%039d", i))));
        }
        java.util.Map<String, Long> outAt = new java.util.HashMap<>();
        for (long t = 1; t <= 5000; t++) {
            harness.setProcessingTime(t);
            for (ChunkTask c : emitted()) {
                outAt.putIfAbsent(c.docId(), t);
            }
        }
        assertThat(outAt).as("nothing dropped").hasSize(38);
        long lastB = outAt.entrySet().stream().filter(e -> e.getKey().startsWith("b")).mapToLong(java.util.Map.Entry::getValue).max().orElseThrow();
        long lastA = outAt.entrySet().stream().filter(e -> e.getKey().startsWith("a")).mapToLong(java.util.Map.Entry::getValue).max().orElseThrow();
        assertThat(lastB).as("B waits no longer than batch.documents.max-wait, as alone").isLessThanOrEqualTo(50L);
        // The last batch of A (48 tokens) starts once the 312 tokens before it, less the burst of
        // 100, are paid off at 100 per second: about 2.1 s.
        assertThat(lastA).as("A is embedded at about its rate").isBetween(1800L, 2600L);
    }
}
