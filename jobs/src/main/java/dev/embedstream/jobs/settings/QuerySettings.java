package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.model.Retrieval;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/** How queries are answered: {@code query.*}. */
public record QuerySettings(int defaultTopK, long searchTimeoutMs, int maxInFlight, long aliasRefreshMs,
        long maxLatencyMs, boolean fastPath, long fastPathRememberedBytes, Retrieval.Mode defaultMode)
        implements Serializable {

    public QuerySettings {
        require(maxInFlight >= 1, QUERY_MAX_IN_FLIGHT, "must be >= 1");
        require(aliasRefreshMs >= 50, MILVUS_ALIAS_REFRESH, "must be >= 50 ms");
        require(maxLatencyMs >= 1, QUERY_MAX_LATENCY, "must be >= 1 ms");
        require(fastPathRememberedBytes >= 1024, QUERY_FAST_PATH_REMEMBERED, "must be >= 1 kb");
        require(defaultMode != null, MILVUS_SEARCH_DEFAULT_MODE, "must be dense, hybrid or keyword");
    }

    public static QuerySettings from(ReadableConfig c) {
        return new QuerySettings(c.get(QUERY_DEFAULT_TOP_K), c.get(QUERY_TIMEOUT).toMillis(), c.get(QUERY_MAX_IN_FLIGHT),
                c.get(MILVUS_ALIAS_REFRESH).toMillis(), c.get(QUERY_MAX_LATENCY).toMillis(), c.get(QUERY_FAST_PATH),
                c.get(QUERY_FAST_PATH_REMEMBERED).getBytes(), Retrieval.Mode.of(c.get(MILVUS_SEARCH_DEFAULT_MODE)));
    }
}
