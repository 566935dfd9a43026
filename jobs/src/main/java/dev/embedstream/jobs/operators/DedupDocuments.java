package dev.embedstream.jobs.operators;

import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.DocumentChange;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;

/**
 * Keyed by document identity ({@code <tenant>:<doc_id>}): remembers the sha256 of the text and
 * metadata of the last version sent on, and drops an upsert whose digest is unchanged before any
 * model work. A delete forgets it. State has a TTL from the first version, so it stays bounded.
 */
public class DedupDocuments extends LastDigestFunction<DocumentChange> {

    private transient Counter dropped;

    public DedupDocuments(long ttlMs) {
        // A new state name: the old one held a 32-bit metadata hash, which must not be compared.
        super("content-digest", ttlMs);
    }

    @Override
    protected void registerMetrics(MetricGroup embedstream) {
        dropped = embedstream.counter("dedupDropped");
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
