package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.metrics.TenantMetrics;
import dev.embedstream.jobs.settings.QuotaSettings;
import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;

/**
 * What both steps that refuse queries before they cost work share ({@link AdmitQueries} where
 * queries enter, {@link ShedQueries} before the slow path): a query that would be answered past its
 * effective deadline ({@code deadline_ms}, or {@code query.max-latency} after it was sent) is
 * answered {@code overloaded} at once and counted in {@code queriesShed} under its tenant. The
 * answer is not kept for the request id, so a retry is answered anew. Per-tenant counters
 * register the tenants named in {@code quota.queries.*} at zero.
 */
abstract class QueryGate extends ProcessFunction<QueryTask, QueryTask> {

    protected final QuotaSettings quota;
    private final long maxLatencyMs;
    private transient TenantMetrics<Counter> shed;

    /** @param maxLatencyMs {@code query.max-latency}: the budget of a query without {@code deadline_ms} */
    protected QueryGate(QuotaSettings quota, long maxLatencyMs) {
        this.quota = quota;
        this.maxLatencyMs = maxLatencyMs;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        shed = tenantCounters("queriesShed");
    }

    /** A counter {@code name} per tenant in this operator's {@code embedstream} group. */
    protected TenantMetrics<Counter> tenantCounters(String name) {
        return TenantMetrics.counters(getRuntimeContext().getMetricGroup().addGroup("embedstream"),
                quota.queryRates().overrides().keySet(), name);
    }

    /**
     * Answers {@code q} {@code overloaded} when it would be answered past its deadline.
     *
     * @param expectedMs how long its answer will take from {@code nowMs} on
     * @return whether it was answered (it must not go on)
     */
    protected boolean shedIfLate(QueryTask q, long expectedMs, long nowMs, Context ctx) {
        long deadline = q.effectiveDeadlineMs(maxLatencyMs);
        if (nowMs + expectedMs <= deadline) {
            return false;
        }
        shed.of(q.tenant()).inc();
        ctx.output(Replies.TAG, Replies.unkept(Replies.overloaded(q, expectedMs, deadline, nowMs), q.replyPartition()));
        return true;
    }
}
