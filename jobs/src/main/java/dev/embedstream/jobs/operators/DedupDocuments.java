package dev.embedstream.jobs.operators;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.DocumentChange;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by document identity ({@code <tenant>:<doc_id>}): remembers the sha256 of the text and
 * metadata of the last version sent on, and drops an upsert whose digest is unchanged before any
 * model work. A delete forgets it. State has a TTL from the first version, so it stays bounded.
 */
public class DedupDocuments extends KeyedProcessFunction<String, DocumentChange, DocumentChange> {

    private final long ttlMs;
    private transient ValueState<String> lastDigest;
    private transient Counter dropped;

    public DedupDocuments(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        // A new state name: the old one held a 32-bit metadata hash, which must not be compared.
        lastDigest = getRuntimeContext().getState(TtlState.value("content-digest", String.class, ttlMs));
        dropped = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("dedupDropped");
    }

    @Override
    public void processElement(DocumentChange doc, Context ctx, Collector<DocumentChange> out) throws Exception {
        if (doc.op() == Op.DELETE) {
            lastDigest.clear();
            out.collect(doc);
            return;
        }
        if (doc.digest().equals(lastDigest.value())) {
            dropped.inc();
            return;
        }
        lastDigest.update(doc.digest());
        out.collect(doc);
    }
}
