package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.DocumentChange;
import java.util.Map;
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
                new KeyedProcessOperator<>(new DedupDocuments(TTL)), DocumentChange::identity, Types.STRING);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static DocumentChange upsert(String id, String text) {
        return upsert("default", id, text, Map.of());
    }

    private static DocumentChange upsert(String tenant, String id, String text, Map<String, Object> metadata) {
        return ParseDocuments.change(new DocumentEvent(id, Op.UPSERT, "text " + text, tenant, metadata), null);
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
        send(ParseDocuments.change(new DocumentEvent("d", Op.DELETE, null, "default", Map.of()), null));
        send(upsert("d", "h1"));
        assertThat(harness.extractOutputValues()).extracting(DocumentChange::op)
                .containsExactly(Op.UPSERT, Op.DELETE, Op.UPSERT);
    }

    @Test
    void metadataOnlyChangeIsWrittenEvenWhenItsStringHashesCollide() throws Exception {
        // "Aa" and "BB" have the same 32-bit String.hashCode; the digest is a sha256.
        assertThat("{\"k\":\"Aa\"}".hashCode()).isEqualTo("{\"k\":\"BB\"}".hashCode());
        send(upsert("default", "d", "same", Map.of("k", "Aa")));
        send(upsert("default", "d", "same", Map.of("k", "BB")));
        assertThat(harness.extractOutputValues()).extracting(DocumentChange::metadataJson)
                .containsExactly("{\"k\":\"Aa\"}", "{\"k\":\"BB\"}");
    }

    @Test
    void sameDocIdInTwoTenantsIsDeduplicatedSeparately() throws Exception {
        send(upsert("a", "d", "same", Map.of()));
        send(upsert("b", "d", "same", Map.of()));
        send(ParseDocuments.change(new DocumentEvent("d", Op.DELETE, null, "b", Map.of()), null));
        // Tenant b's delete must not make tenant a's unchanged re-upsert look new.
        send(upsert("a", "d", "same", Map.of()));
        assertThat(harness.extractOutputValues()).extracting(DocumentChange::tenant, DocumentChange::op)
                .containsExactly(tuple("a", Op.UPSERT),
                        tuple("b", Op.UPSERT),
                        tuple("b", Op.DELETE));
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
