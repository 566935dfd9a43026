package dev.embedstream.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

class EmbedstreamOptionsTest {

    private static List<ConfigOption<?>> options() throws IllegalAccessException {
        List<ConfigOption<?>> out = new ArrayList<>();
        for (Field f : EmbedstreamOptions.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                out.add((ConfigOption<?>) f.get(null));
            }
        }
        return out;
    }

    @Test
    void everyOptionIsInTheReadmeConfigurationTable() throws Exception {
        String readme = Files.readString(Path.of("..", "docs", "configuration.md"));
        List<ConfigOption<?>> options = options();
        assertThat(options).hasSizeGreaterThan(20);
        for (ConfigOption<?> o : options) {
            assertThat(readme).as("docs/configuration.md row for %s", o.key()).contains("| `" + o.key() + "` |");
        }
    }

    @Test
    void everyOptionSaysWhatItIsFor() throws Exception {
        for (ConfigOption<?> o : options()) {
            assertThat(o.description().toString()).as(o.key()).isNotBlank();
        }
    }
}
