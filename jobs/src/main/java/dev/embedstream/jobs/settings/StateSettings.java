package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The job's keyed state: how long dedup entries live ({@code dedup.ttl}, {@code dedup.query-ttl})
 * and how many key groups it is split into ({@code job.max-parallelism}).
 */
public record StateSettings(long dedupTtlMs, long queryDedupTtlMs, int maxParallelism) implements Serializable {

    public StateSettings {
        require(maxParallelism >= 1 && maxParallelism <= 32768, MAX_PARALLELISM, "must be in [1, 32768]");
    }

    public static StateSettings from(ReadableConfig c) {
        return new StateSettings(c.get(DEDUP_TTL).toMillis(), c.get(DEDUP_QUERY_TTL).toMillis(), c.get(MAX_PARALLELISM));
    }
}
