package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by request_id, in front of the response sink: remembers each answer for the TTL and
 * re-sends it when the same request id is asked again. A repeat whose first answer is still on
 * its way is dropped: that answer serves both, and clients deduplicate by request id.
 */
public class ReplyCache extends KeyedCoProcessFunction<String, Reply, QueryTask, Reply> {

    private final long ttlMs;
    private transient ValueState<Reply> answered;
    private transient Counter resent;

    public ReplyCache(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        answered = getRuntimeContext().getState(TtlState.value("answer", Reply.class, ttlMs));
        resent = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("repliesResent");
    }

    @Override
    public void processElement1(Reply reply, Context ctx, Collector<Reply> out) throws Exception {
        answered.update(reply);
        out.collect(reply);
    }

    @Override
    public void processElement2(QueryTask repeat, Context ctx, Collector<Reply> out) throws Exception {
        Reply first = answered.value();
        if (first != null) {
            resent.inc();
            out.collect(first);
        }
    }
}
