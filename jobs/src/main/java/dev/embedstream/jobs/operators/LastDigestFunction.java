package dev.embedstream.jobs.operators;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;

/**
 * What both dedup operators keep: under each key, the digest of the last element let through, in
 * keyed state that expires {@code ttlMs} after it was written (so state stays bounded). Each
 * subclass decides what a repeated or a different digest means, and registers its counters in the
 * {@code embedstream} metric group.
 *
 * <p>The state name is the subclass's and part of its savepoint compatibility: a new name is how a
 * change of what the digest means drops the entries of an older savepoint.
 */
abstract class LastDigestFunction<T> extends KeyedProcessFunction<String, T, T> {

    private final String stateName;
    private final long ttlMs;
    /** The digest of the last element let through under the current key; null when none (or expired). */
    protected transient ValueState<String> lastDigest;

    protected LastDigestFunction(String stateName, long ttlMs) {
        this.stateName = stateName;
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) throws Exception {
        lastDigest = getRuntimeContext().getState(TtlState.value(stateName, String.class, ttlMs));
        registerMetrics(getRuntimeContext().getMetricGroup().addGroup("embedstream"));
    }

    /** Creates this operator's counters in the {@code embedstream} group (names are the dashboards'). */
    protected abstract void registerMetrics(MetricGroup embedstream);
}
