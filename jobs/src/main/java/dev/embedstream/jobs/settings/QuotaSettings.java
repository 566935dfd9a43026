package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.quota.TenantRates;
import java.io.Serializable;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;

/**
 * Per-tenant quotas ({@code quota.*}): queries per second, checked where queries enter, and
 * document tokens per second, which pace the document lane. Rates are for the whole job; each
 * subtask enforces {@link TenantRates#share its share}.
 */
public record QuotaSettings(TenantRates queryRates, TenantRates documentRates, int maxTenants) implements Serializable {

    public QuotaSettings {
        require(maxTenants >= 1, QUOTA_MAX_TENANTS, "must be >= 1");
    }

    public static QuotaSettings from(ReadableConfig c) {
        return new QuotaSettings(
                rates(c, QUOTA_QUERIES_PER_SECOND, QUOTA_QUERIES_TENANTS),
                rates(c, QUOTA_DOCUMENT_TOKENS_PER_SECOND, QUOTA_DOCUMENTS_TENANTS),
                c.get(QUOTA_MAX_TENANTS));
    }

    private static TenantRates rates(ReadableConfig c, ConfigOption<Double> perSecond,
            ConfigOption<Map<String, String>> tenants) {
        double rate = c.get(perSecond);
        require(rate >= 0 && !Double.isInfinite(rate), perSecond, "must be a finite number >= 0");
        try {
            return TenantRates.of(rate, c.get(tenants));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(tenants.key() + " refused: " + e.getMessage(), e);
        }
    }
}
