package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.DeadLetterRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;

/**
 * A process function whose bad inputs become dead letters on {@link DeadLetters#TAG}, counted by
 * code. The parse and chunk operators share this so that every dead letter they write is counted
 * the same way, in the same {@code embedstream} metric group as their own counters.
 */
abstract class DeadLetteringFunction<I, O> extends ProcessFunction<I, O> {

    protected final DeadLetters deadLetters;
    private transient DeadLetters.CodeCounters codes;

    protected DeadLetteringFunction(DeadLetters deadLetters) {
        this.deadLetters = deadLetters;
    }

    @Override
    public final void open(OpenContext ctx) throws Exception {
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        codes = new DeadLetters.CodeCounters(group);
        open(group);
    }

    /** Builds the operator's clients and its counters in its {@code embedstream} metric group. */
    protected abstract void open(MetricGroup group) throws Exception;

    /** Sends {@code letter} to the dead-letter side output and counts it under {@code code}. */
    protected void deadLetter(Context ctx, String code, DeadLetterRecord letter) {
        codes.inc(code);
        ctx.output(DeadLetters.TAG, letter);
    }
}
