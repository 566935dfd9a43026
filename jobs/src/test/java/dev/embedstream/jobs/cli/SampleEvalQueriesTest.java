package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The committed labelled set (scripts/sample/eval-queries.jsonl) is usable on the committed corpus. */
class SampleEvalQueriesTest {

    private static final Path SAMPLE = Path.of("..", "scripts", "sample").toAbsolutePath().normalize();

    @Test
    void everyLabelNamesADocumentOfTheSampleCorpusAndTheSetHoldsBothKindsOfQuery() throws Exception {
        Set<String> corpus = new HashSet<>();
        for (String line : Files.readAllLines(SAMPLE.resolve("corpus.jsonl"))) {
            corpus.add(Json.parse(line).path("doc_id").asText());
        }
        Path file = SAMPLE.resolve("eval-queries.jsonl");
        List<EvalSet.Query> set = EvalSet.read(file);
        assertThat(set).hasSizeGreaterThanOrEqualTo(300);
        assertThat(Files.size(file)).isLessThan(200 * 1024);
        assertThat(set).allSatisfy(q -> assertThat(corpus).containsAll(q.relevant()));
        assertThat(set.stream().map(EvalSet.Query::text).distinct()).hasSameSizeAs(set);
        Map<String, Long> kinds = set.stream().collect(Collectors.groupingBy(EvalSet.Query::kind, Collectors.counting()));
        assertThat(kinds).containsOnlyKeys("paraphrase", "name", "qualified", "symbol");
        assertThat(kinds.get("paraphrase")).isGreaterThanOrEqualTo(200);
    }
}
