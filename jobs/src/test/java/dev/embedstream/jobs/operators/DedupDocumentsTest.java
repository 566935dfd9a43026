package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.DocumentChange;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DedupDocumentsTest {

    private static final long TTL = 60_000;
    private KeyedOneInputStreamOperatorTestHarness<String, DocumentChange, DocumentChange> harness;

    @BeforeEach
    void setUp() throws Exception {
        harness = open(null);
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, DocumentChange, DocumentChange> open(
            OperatorSubtaskState state) throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new DedupDocuments(TTL)), DocumentChange::docId, Types.STRING);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static DocumentChange upsert(String id, String hash) {
        return new DocumentChange(id, Op.UPSERT, "default", "text " + hash, "{}", hash);
    }

    private void send(DocumentChange d) throws Exception {
        harness.processElement(new StreamRecord<>(d));
    }

    @Test
    void unchangedDocumentIsNotReembedded() throws Exception {
        send(upsert("d", "h1"));
        send(upsert("d", "h1"));
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void changedTextPassesThrough() throws Exception {
        send(upsert("d", "h1"));
        send(upsert("d", "h2"));
        send(upsert("other", "h1"));
        assertThat(harness.extractOutputValues()).hasSize(3);
    }

    @Test
    void deleteForgetsTheDocumentSoTheSameTextIsWrittenAgain() throws Exception {
        send(upsert("d", "h1"));
        send(new DocumentChange("d", Op.DELETE, "default", null, null, null));
        send(upsert("d", "h1"));
        assertThat(harness.extractOutputValues()).extracting(DocumentChange::op)
                .containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT);
    }

    @Test
    void rememberedHashExpiresAfterTheTtl() throws Exception {
        harness.setStateTtlProcessingTime(0);
        send(upsert("d", "h1"));
        harness.setStateTtlProcessingTime(TTL + 1);
        send(upsert("d", "h1"));
        assertThat(harness.extractOutputValues()).hasSize(2);
    }

    @Test
    void dedupStateSurvivesSnapshotAndRestore() throws Exception {
        send(upsert("d", "h1"));
        OperatorSubtaskState snapshot = harness.snapshot(1, 1);
        harness.close();
        harness = open(snapshot);
        send(upsert("d", "h1"));
        assertThat(harness.extractOutputValues()).isEmpty();
    }
}
