package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
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
public class DedupQueries extends KeyedProcessFunction<String, QueryTask, QueryTask> {

    public static final OutputTag<QueryTask> REPEATS = new OutputTag<>("repeated-queries") {};

    private final long ttlMs;
    private transient ValueState<String> digest;
    private transient Counter repeats;
    private transient Counter conflicts;

    public DedupQueries(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        // Named anew (was "seen", keyed by request id alone): entries restored from an older
        // savepoint mean nothing under (tenant, request id) keys, so they are no longer read.
        digest = getRuntimeContext().getState(TtlState.value("query-digest", String.class, ttlMs));
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        repeats = group.counter("queriesDeduplicated");
        conflicts = group.counter("requestIdConflicts");
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) throws Exception {
        String asked = q.digest();
        String first = digest.value();
        if (first == null) {
            digest.update(asked);
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
