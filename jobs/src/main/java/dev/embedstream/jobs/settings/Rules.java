package dev.embedstream.jobs.settings;

import org.apache.flink.configuration.ConfigOption;

/**
 * The one way a settings group refuses a value: by its option's key, so a renamed option cannot
 * leave a stale message. A group checks its own values in its record's compact constructor, so no
 * instance can hold a value its rules refuse; a rule that needs another group's option stays in
 * {@code from()}.
 */
public final class Rules {

    private Rules() {}

    public static void require(boolean ok, ConfigOption<?> option, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(option.key() + " " + rule);
        }
    }
}
