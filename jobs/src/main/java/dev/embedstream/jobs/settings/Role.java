package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.JOB_ROLE;

import java.util.Locale;
import org.apache.flink.configuration.ReadableConfig;

/**
 * What a job of this jar does ({@code job.role}). A model migration runs two jobs from the same
 * jar: the serving job (documents into its model's collection, every query by the alias) and a
 * backfill job (the documents topic from the earliest offset into the new model's collection, no
 * queries, never touching the alias). Both keep their collection current until one is retired.
 */
public enum Role {
    SERVE,
    BACKFILL;

    public static Role from(ReadableConfig c) {
        String v = c.get(JOB_ROLE).trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "serve" -> SERVE;
            case "backfill" -> BACKFILL;
            default -> throw new IllegalArgumentException(JOB_ROLE.key() + " must be serve or backfill, not '" + v + "'");
        };
    }
}
