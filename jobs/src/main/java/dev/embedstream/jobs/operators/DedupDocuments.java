package dev.embedstream.jobs.operators;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.DocumentChange;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by doc_id: remembers the content hash of the last version sent on, and drops an upsert
 * whose text is unchanged before any model work. A delete forgets the hash. State has a TTL from
 * the first version, so it stays bounded and never needs migrating.
 */
public class DedupDocuments extends KeyedProcessFunction<String, DocumentChange, DocumentChange> {

    private final long ttlMs;
    private transient ValueState<String> lastHash;
    private transient Counter dropped;

    public DedupDocuments(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        lastHash = getRuntimeContext().getState(TtlState.value("content-hash", String.class, ttlMs));
        dropped = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("dedupDropped");
    }

    @Override
    public void processElement(DocumentChange doc, Context ctx, Collector<DocumentChange> out) throws Exception {
        if (doc.op() == Op.DELETE) {
            lastHash.clear();
            out.collect(doc);
            return;
        }
        // Tenant is part of the identity: the same text moved to another tenant must be rewritten.
        String identity = doc.tenant() + ":" + doc.contentHash() + ":" + doc.metadataJson().hashCode();
        if (identity.equals(lastHash.value())) {
            dropped.inc();
            return;
        }
        lastHash.update(identity);
        out.collect(doc);
    }
}
