package dev.embedstream.jobs.settings;

import org.apache.flink.configuration.ConfigOption;

/** The one way a settings group refuses a value: by its option's key, so a renamed option cannot leave a stale message. */
public final class Rules {

    private Rules() {}

    public static void require(boolean ok, ConfigOption<?> option, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(option.key() + " " + rule);
        }
    }
}
