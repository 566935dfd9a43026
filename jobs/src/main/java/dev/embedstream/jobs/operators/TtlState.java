package dev.embedstream.jobs.operators;

import java.time.Duration;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueStateDescriptor;

/** Keyed state that expires: every keyed operator's state is bounded by a TTL from its first version. */
final class TtlState {

    private TtlState() {}

    /** A value that expires {@code ttlMs} after it was last written and is never read once expired. */
    static <T> ValueStateDescriptor<T> value(String name, Class<T> type, long ttlMs) {
        ValueStateDescriptor<T> desc = new ValueStateDescriptor<>(name, type);
        desc.enableTimeToLive(StateTtlConfig.newBuilder(Duration.ofMillis(ttlMs))
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build());
        return desc;
    }
}
