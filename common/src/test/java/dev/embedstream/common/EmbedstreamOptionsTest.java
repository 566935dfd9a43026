package dev.embedstream.common;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.configuration.ConfigOption;
import org.junit.jupiter.api.Test;

class EmbedstreamOptionsTest {

    private static final Path REFERENCE = Path.of("..", "docs", "configuration.md");

    /**
     * The reference is generated from the options; when they drift this fails. Run
     * {@code scripts/config-reference.sh} (this test with {@code -Dembedstream.write-config-reference=true})
     * to rewrite the table.
     */
    @Test
    void theConfigurationReferenceIsGeneratedFromTheOptions() throws Exception {
        String docs = Files.readString(REFERENCE);
        String current = ConfigurationReference.regenerate(docs);
        if (Boolean.getBoolean("embedstream.write-config-reference")) {
            Files.writeString(REFERENCE, current);
            docs = current;
        }
        assertThat(docs).as("docs/configuration.md is stale: run scripts/config-reference.sh").isEqualTo(current);
        for (ConfigOption<?> o : ConfigurationReference.options()) {
            assertThat(docs).as("row for %s", o.key()).contains("| `" + o.key() + "` |");
        }
    }

    @Test
    void everyOptionSaysWhatItIsFor() {
        assertThat(ConfigurationReference.options()).hasSizeGreaterThan(20);
        for (ConfigOption<?> o : ConfigurationReference.options()) {
            assertThat(ConfigurationReference.text(o.description())).as(o.key()).isNotBlank();
        }
    }
}
