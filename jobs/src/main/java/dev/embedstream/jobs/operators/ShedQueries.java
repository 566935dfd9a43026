package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.settings.QuotaSettings;
import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.util.Collector;

/**
 * The last step before a query leaves its source's task for the slow path (chained after
 * {@link AnswerCachedQueries}, so cache hits are never shed): a query whose deadline would pass
 * before the slow path answers it, judging by what it has recently taken in this TaskManager
 * ({@link QueryPressure}, fed by {@link SearchMilvus}), is answered {@code overloaded} at once
 * instead of joining the queue. Shedding here keeps the source reading, so under overload queries
 * do not age in Kafka and in network buffers until they are past their deadline: the admitted
 * load settles where the slow path answers within the budget. The answer is not kept for the
 * request id: a retry is answered anew.
 */
public class ShedQueries extends QueryGate {

    private transient QueryPressure pressure;

    /** @param quota names the tenants whose counters start at zero */
    public ShedQueries(QuotaSettings quota, long maxLatencyMs) {
        super(quota, maxLatencyMs);
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        super.open(ctx);
        pressure = QueryPressure.of(getRuntimeContext().getJobInfo().getJobId().toString());
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) {
        long now = System.currentTimeMillis();
        if (!shedIfLate(q, pressure.expectedMs(now), now, ctx)) {
            out.collect(q);
        }
    }
}
