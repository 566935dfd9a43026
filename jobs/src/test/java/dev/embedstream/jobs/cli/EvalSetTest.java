package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.Defaults;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalSetTest {

    @TempDir
    Path dir;

    @Test
    void readsQueriesWithTheDefaultTenantWhenNoneIsGiven() throws Exception {
        Path f = Files.writeString(dir.resolve("q.jsonl"), """
                {"text": "how do I retry", "relevant": ["d1", "d2", "d1"]}

                {"text": "kafka", "relevant": ["d3"], "tenant": "acme", "kind": "name"}
                """);
        var queries = EvalSet.read(f);
        assertThat(queries).hasSize(2);
        assertThat(queries.get(0).relevant()).isEqualTo(Set.of("d1", "d2"));
        assertThat(queries.get(0).tenant()).isEqualTo(Defaults.TENANT);
        assertThat(queries.get(1).tenant()).isEqualTo("acme");
        assertThat(queries.get(0).kind()).isNull();
        assertThat(queries.get(1).kind()).isEqualTo("name");
    }

    @Test
    void aMalformedLineRefusesTheFileAndNamesTheLine() throws Exception {
        Path f = Files.writeString(dir.resolve("q.jsonl"), """
                {"text": "ok", "relevant": ["d1"]}
                {"text": "no relevant"}
                """);
        assertThatThrownBy(() -> EvalSet.read(f)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 2").hasMessageContaining("relevant");
    }

    @Test
    void everyShapeOfBadQueryIsRefused() {
        for (String bad : new String[] {"not json", "[1,2]", "{\"relevant\": [\"d\"]}", "{\"text\": \"\", \"relevant\": [\"d\"]}",
            "{\"text\": 3, \"relevant\": [\"d\"]}", "{\"text\": \"t\", \"relevant\": []}", "{\"text\": \"t\", \"relevant\": [7]}",
            "{\"text\": \"t\", \"relevant\": \"d\"}", "{\"text\": \"t\", \"relevant\": [\"d\"], \"tenant\": 5}",
            "{\"text\": \"t\", \"relevant\": [\"d\"], \"kind\": 5}"}) {
            assertThatThrownBy(() -> EvalSet.parse(bad, "here")).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("here");
        }
    }

    @Test
    void anEmptyFileIsRefused() throws Exception {
        Path f = Files.writeString(dir.resolve("q.jsonl"), "\n\n");
        assertThatThrownBy(() -> EvalSet.read(f)).hasMessageContaining("no query");
    }
}
