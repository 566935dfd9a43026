package dev.embedstream.jobs;

import dev.embedstream.common.testing.TestServers;
import org.apache.flink.configuration.Configuration;

/** Job settings for tests: the defaults, with overrides as {@code key, value} pairs. */
public final class TestSettings {

    private TestSettings() {}

    public static JobSettings with(String... keyValues) {
        Configuration conf = new Configuration();
        conf.setString("model.cache-dir", TestServers.modelCache().toString());
        for (int i = 0; i < keyValues.length; i += 2) {
            conf.setString(keyValues[i], keyValues[i + 1]);
        }
        return JobSettings.from(conf);
    }
}
