package dev.embedstream.common.quota;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * A rate per tenant (per second): a default and per-tenant overrides, as the {@code quota.*}
 * options give them. A rate of 0 means no limit.
 */
public record TenantRates(double defaultRate, Map<String, Double> overrides) implements Serializable {

    public static final TenantRates UNLIMITED = new TenantRates(0, Map.of());

    public TenantRates {
        if (!(defaultRate >= 0) || Double.isInfinite(defaultRate)) {
            throw new IllegalArgumentException("a rate must be a finite number >= 0, not " + defaultRate);
        }
        overrides = Map.copyOf(overrides);
        overrides.forEach((tenant, rate) -> {
            if (!(rate >= 0) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException("tenant " + tenant + ": a rate must be a finite number >= 0, not " + rate);
            }
        });
    }

    /**
     * Reads overrides as a map option gives them ({@code tenant:rate,...}).
     *
     * @throws IllegalArgumentException naming the tenant whose rate is not a number
     */
    public static TenantRates of(double defaultRate, Map<String, String> overrides) {
        Map<String, Double> parsed = new TreeMap<>();
        overrides.forEach((tenant, rate) -> {
            try {
                parsed.put(tenant.strip(), Double.parseDouble(rate.strip()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tenant " + tenant + ": rate '" + rate + "' is not a number");
            }
        });
        return new TenantRates(defaultRate, parsed);
    }

    /** The tenant's rate; 0 = no limit. */
    public double of(String tenant) {
        return overrides.getOrDefault(tenant, defaultRate);
    }

    /** True when no tenant is limited. */
    public boolean unlimited() {
        return defaultRate == 0 && overrides.values().stream().allMatch(r -> r == 0);
    }

    /** Each of {@code parallelism} subtasks enforces this share of every rate. */
    public TenantRates share(int parallelism) {
        Map<String, Double> shared = new TreeMap<>();
        overrides.forEach((tenant, rate) -> shared.put(tenant, rate / parallelism));
        return new TenantRates(defaultRate / parallelism, shared);
    }
}
