package dev.embedstream.jobs.metrics;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;

/**
 * Per-tenant metrics with a bounded label set: every tenant named in the quota options and
 * {@code default} get their own {@code tenant} label from the start (registered at zero), the
 * next tenants seen get theirs until {@link #MAX_LABELS} are in use, and every later tenant is
 * counted under {@code tenant="_other"}, so a producer inventing tenants cannot blow up the number
 * of Prometheus series.
 *
 * @param <M> what is kept per label (a counter, or a holder a gauge reads)
 */
public final class TenantMetrics<M> {

    /** Labels per operator and metric before tenants share {@link #OTHER}. */
    public static final int MAX_LABELS = 100;
    public static final String OTHER = "_other";

    private final MetricGroup group;
    private final Function<MetricGroup, M> register;
    private final Map<String, M> byLabel = new HashMap<>();

    /**
     * @param group the operator's metric group; each label is {@code group.addGroup("tenant", label)}
     * @param register registers the metric(s) of one label in its group
     * @param known tenants registered now (at zero)
     */
    public TenantMetrics(MetricGroup group, Iterable<String> known, Function<MetricGroup, M> register) {
        this.group = group;
        this.register = register;
        of("default");
        for (String tenant : known) {
            of(tenant);
        }
        byLabel.computeIfAbsent(OTHER, l -> register.apply(group.addGroup("tenant", l)));
    }

    /** A counter {@code name} per tenant label: the usual kind, registered the one way. */
    public static TenantMetrics<Counter> counters(MetricGroup group, Iterable<String> known, String name) {
        return new TenantMetrics<>(group, known, g -> g.counter(name));
    }

    /** The tenant's own metric, or the shared {@code _other} one once the labels are used up. */
    public M of(String tenant) {
        M m = byLabel.get(tenant);
        if (m != null) {
            return m;
        }
        if (byLabel.size() >= MAX_LABELS) {
            return byLabel.get(OTHER);
        }
        return byLabel.computeIfAbsent(tenant, l -> register.apply(group.addGroup("tenant", l)));
    }

    /** Every label's metric holder (for gauges that reset what they read). */
    public Iterable<M> all() {
        return byLabel.values();
    }
}
