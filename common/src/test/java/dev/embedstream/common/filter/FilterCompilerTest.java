package dev.embedstream.common.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FilterCompilerTest {

    @Test
    void tenantAloneBecomesAnEqualityOnThePartitionKey() {
        assertThat(FilterCompiler.compile("acme", Map.of())).isEqualTo("tenant == \"acme\"");
    }

    @Test
    void scalarsBecomeEqualsAndListsBecomeAnyOf() {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("lang", "en");
        f.put("section", List.of("admin", "ops"));
        f.put("year", 2024L);
        f.put("draft", false);
        f.put("score", 0.5);
        assertThat(FilterCompiler.compile("default", f)).isEqualTo(
                "tenant == \"default\" and metadata[\"lang\"] == \"en\" and (metadata[\"section\"] == \"admin\" or metadata[\"section\"] == \"ops\")"
                        + " and metadata[\"year\"] == 2024 and metadata[\"draft\"] == false and metadata[\"score\"] == 0.5");
    }

    @Test
    void quotesAndBackslashesInValuesCannotCloseTheLiteral() {
        String evil = "en\" or tenant != \"x";
        String expr = FilterCompiler.compile("t", Map.of("lang", evil));
        assertThat(expr).isEqualTo("tenant == \"t\" and metadata[\"lang\"] == \"en\\\" or tenant != \\\"x\"");
        String evil2 = "en\\\" or 1==1 or \"";
        assertThat(FilterCompiler.literal(evil2)).isEqualTo("\"en\\\\\\\" or 1==1 or \\\"\"");
    }

    @Test
    void fieldNamesOutsideThePatternAreRefused() {
        assertThatThrownBy(() -> FilterCompiler.compile("t", Map.of("a\"] == 1 or metadata[\"b", 1L)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void controlCharactersAreEscaped() {
        assertThat(FilterCompiler.literal("a\nb\u0000")).isEqualTo("\"a\\nb\\u0000\"");
    }
}
