package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
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
        ValueStateDescriptor<Boolean> desc = new ValueStateDescriptor<>("seen", Boolean.class);
        desc.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMillis(ttlMs)).build());
        seen = getRuntimeContext().getState(desc);
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
