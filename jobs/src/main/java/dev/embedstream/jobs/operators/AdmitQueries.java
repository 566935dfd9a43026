package dev.embedstream.jobs.operators;

import dev.embedstream.common.model.Response;
import dev.embedstream.common.quota.TenantBuckets;
import dev.embedstream.jobs.metrics.TenantMetrics;
import dev.embedstream.jobs.settings.QuotaSettings;
import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;

/**
 * Where queries enter (chained to their parser, before any exchange): a query that has already
 * waited past its effective deadline is answered {@code overloaded}, and a query over its tenant's
 * quota ({@code quota.queries.*}, this subtask's share) {@code rate_limited} with the time until its
 * tenant's bucket admits one again, both at once. Neither answer is kept for the request id (they
 * leave before dedup), so a retry gets a real answer. A shed query costs its tenant no token.
 *
 * <p>The buckets run on the operator's processing time, which a harness test drives.
 */
public class AdmitQueries extends QueryGate {

    private transient TenantBuckets buckets;
    /** Processing time of the query at hand: the buckets' clock. */
    private transient long nowMs;
    private transient TenantMetrics<Counter> admitted;
    private transient TenantMetrics<Counter> rateLimited;

    /** @param maxLatencyMs {@code query.max-latency}: the budget of a query without {@code deadline_ms} */
    public AdmitQueries(QuotaSettings quota, long maxLatencyMs) {
        super(quota, maxLatencyMs);
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        super.open(ctx);
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        buckets = new TenantBuckets(quota.queryRates().share(parallelism), quota.maxTenants(), () -> nowMs * 1_000_000L);
        admitted = tenantCounters("queriesAdmitted");
        rateLimited = tenantCounters("queriesRateLimited");
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) {
        nowMs = ctx.timerService().currentProcessingTime();
        if (q.expiredAt(nowMs)) {
            ctx.output(Replies.TAG, Replies.expiredOnArrival(q, nowMs));
            return;
        }
        // Only the time already waited: what the slow path will take is ShedQueries' to judge.
        if (shedIfLate(q, 0, nowMs, ctx)) {
            return;
        }
        long waitNanos = buckets.tryTake(q.tenant(), 1);
        if (waitNanos > 0) {
            rateLimited.of(q.tenant()).inc();
            long retryAfterMs = Math.max(1, (waitNanos + 999_999) / 1_000_000);
            ctx.output(Replies.TAG, Replies.unkept(Response.rateLimited(q.requestId(), "tenant '" + q.tenant()
                    + "' is over its query quota of " + quota.queryRates().of(q.tenant())
                    + " per second (quota.queries.*); retry after " + retryAfterMs + " ms",
                    nowMs - q.receivedAtMs(), retryAfterMs).withTenant(q.tenant()), q.replyPartition()));
            return;
        }
        admitted.of(q.tenant()).inc();
        out.collect(q);
    }
}
