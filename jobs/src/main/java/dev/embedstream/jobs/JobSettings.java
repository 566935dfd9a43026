package dev.embedstream.jobs;

import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.jobs.settings.BatchSettings;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.KafkaSettings;
import dev.embedstream.jobs.settings.LimitSettings;
import dev.embedstream.jobs.settings.MilvusWriteSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.settings.QuerySettings;
import dev.embedstream.jobs.settings.QuotaSettings;
import dev.embedstream.jobs.settings.Role;
import dev.embedstream.jobs.settings.StateSettings;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * The job's settings, read once from the Flink configuration, in groups by concern (lettuce's
 * {@code SocketOptions}, {@code TimeoutOptions}). Each group reads and checks its own options;
 * {@link Pipeline#define} hands each operator only the groups it uses, and operators build their
 * clients from them in {@code open()}. Defaults live only in the options (EmbedstreamOptions).
 */
public record JobSettings(
        ModelSettings model,
        BatchSettings batch,
        CacheSettings cache,
        MilvusSettings milvus,
        MilvusWriteSettings milvusWrite,
        KafkaSettings kafka,
        LimitSettings limits,
        QuerySettings query,
        QuotaSettings quota,
        StateSettings state,
        Role role)
        implements Serializable {

    /** Reads every group; the first setting that breaks a rule fails the job at start, by its key. */
    public static JobSettings from(ReadableConfig c) {
        return new JobSettings(
                ModelSettings.from(c),
                BatchSettings.from(c),
                CacheSettings.from(c),
                MilvusSettings.from(c),
                MilvusWriteSettings.from(c),
                KafkaSettings.from(c),
                LimitSettings.from(c),
                QuerySettings.from(c),
                QuotaSettings.from(c),
                StateSettings.from(c),
                Role.from(c));
    }
}
