package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keyed by {@link QueryTask#key()} (tenant and request id): a query seen again within the TTL is
 * not computed twice. Its digest is kept, so a repeat of the same query leaves through
 * {@link #REPEATS} for {@link ReplyCache} to re-send the first answer, while a different query
 * under a used request id is answered {@code error} / {@code request_id_conflict} at once (through
 * {@link Replies#TAG}): it must never get the first query's answer, which may be another user's.
 * The same request id in another tenant is another key, never related.
 */
public class DedupQueries extends LastDigestFunction<QueryTask> {

    public static final OutputTag<QueryTask> REPEATS = new OutputTag<>("repeated-queries") {};

    private transient Counter repeats;
    private transient Counter conflicts;

    public DedupQueries(long ttlMs) {
        // Named anew (was "seen", keyed by request id alone): entries restored from an older
        // savepoint mean nothing under (tenant, request id) keys, so they are no longer read.
        super("query-digest", ttlMs);
    }

    @Override
    protected void registerMetrics(MetricGroup embedstream) {
        repeats = embedstream.counter("queriesDeduplicated");
        conflicts = embedstream.counter("requestIdConflicts");
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) throws Exception {
        String asked = q.digest();
        String first = lastDigest.value();
        if (first == null) {
            lastDigest.update(asked);
            out.collect(q);
        } else if (first.equals(asked)) {
            repeats.inc();
            ctx.output(REPEATS, q);
        } else {
            conflicts.inc();
            ctx.output(Replies.TAG, Replies.conflict(q, System.currentTimeMillis()));
        }
    }
}
