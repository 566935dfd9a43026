package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keyed by request_id: a request id seen again within the TTL is not computed twice. The repeat
 * leaves through {@link #REPEATS} so {@link ReplyCache} can re-send the first answer.
 */
public class DedupQueries extends KeyedProcessFunction<String, QueryTask, QueryTask> {

    public static final OutputTag<QueryTask> REPEATS = new OutputTag<>("repeated-queries") {};

    private final long ttlMs;
    private transient ValueState<Boolean> seen;
    private transient Counter repeats;

    public DedupQueries(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        seen = getRuntimeContext().getState(TtlState.value("seen", Boolean.class, ttlMs));
        repeats = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("queriesDeduplicated");
    }

    @Override
    public void processElement(QueryTask q, Context ctx, Collector<QueryTask> out) throws Exception {
        if (seen.value() != null) {
            repeats.inc();
            ctx.output(REPEATS, q);
            return;
        }
        seen.update(true);
        out.collect(q);
    }
}
