package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** eval's and query's --mode and --fusion, and how eval reports what each mode came to. */
class EvalCommandTest {

    private static CommandLine cli() {
        return new CommandLine(new EmbedstreamCli()).registerConverter(Duration.class, EmbedstreamCli::parseDuration);
    }

    private static EvalCommand eval(String... args) {
        return (EvalCommand) cli().parseArgs(args).subcommand().commandSpec().userObject();
    }

    private static List<String> labels(EvalCommand e) {
        return e.variants().stream().map(QueryMode::label).toList();
    }

    @Test
    void evalComparesAllThreeModesAtTwentyRequestsPerSecondByDefault() {
        EvalCommand e = eval("eval", "--queries", "q.jsonl");
        assertThat(labels(e)).containsExactly("dense", "hybrid", "keyword");
        assertThat(e.rate).isEqualTo(20);
        assertThat(e.tenant).isNull();
        assertThat(e.out).isNull();
    }

    @Test
    void evalRunsHybridOncePerFusionAndEachModeOnce() {
        EvalCommand e = eval("eval", "--queries", "q.jsonl", "--mode", "dense,hybrid,dense",
                "--fusion", "rrf:60", "--fusion", "weighted:0.7,0.3", "--fusion", "rrf");
        assertThat(labels(e)).containsExactly("dense", "hybrid/rrf/60", "hybrid/weighted/0.7/0.3", "hybrid/rrf");
    }

    @Test
    void anUnknownModeIsRefusedWithTheModesThatExist() {
        for (String command : new String[] {"eval", "query"}) {
            StringWriter err = new StringWriter();
            String[] args = command.equals("eval") ? new String[] {"eval", "--queries", "q.jsonl", "--mode", "dense,sparse"}
                    : new String[] {"query", "--mode", "sparse", "text"};
            int code = cli().setErr(new PrintWriter(err)).execute(args);
            assertThat(code).as(command).isEqualTo(2);
            assertThat(err.toString()).as(command).contains("unknown mode 'sparse' (use dense, hybrid or keyword)");
        }
    }

    @Test
    void aMalformedFusionIsRefusedBeforeAnythingIsSent() {
        for (String bad : new String[] {"borda", "rrf:0", "rrf:x", "weighted", "weighted:0.7", "weighted:1.5,0.3", "weighted:0,0"}) {
            assertThatThrownBy(() -> eval("eval", "--queries", "q.jsonl", "--fusion", bad)).as(bad)
                    .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--fusion");
        }
    }

    @Test
    void aFusionWithoutHybridIsRefused() {
        assertThatThrownBy(() -> eval("eval", "--queries", "q.jsonl", "--mode", "dense,keyword", "--fusion", "rrf").variants())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("add hybrid to --mode");
        StringWriter err = new StringWriter();
        int code = cli().setErr(new PrintWriter(err)).setExecutionExceptionHandler(EmbedstreamCli::refusal)
                .execute("query", "--mode", "keyword", "--fusion", "rrf", "text");
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).contains("--fusion applies to the hybrid mode only, not keyword");
        assertThatThrownBy(() -> new QueryMode(null, new QueryMode.FusionConverter().convert("rrf")))
                .hasMessageContaining("add --mode hybrid");
    }

    @Test
    void aZeroRateIsRefused() {
        assertThatThrownBy(() -> eval("eval", "--queries", "q.jsonl", "--rate", "0").variants())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--rate");
    }

    @Test
    void theQueryCarriesTheModeAndFusionAsTheContractSpellsThem() {
        ObjectNode q = Json.mapper().createObjectNode();
        new QueryMode("hybrid", new QueryMode.FusionConverter().convert("weighted:0.7,0.3")).applyTo(q);
        assertThat(q.toString()).isEqualTo("{\"mode\":\"hybrid\",\"fusion\":{\"method\":\"weighted\",\"dense\":0.7,\"keyword\":0.3}}");
        ObjectNode rrf = Json.mapper().createObjectNode();
        new QueryMode("hybrid", new QueryMode.FusionConverter().convert("rrf:60")).applyTo(rrf);
        assertThat(rrf.toString()).isEqualTo("{\"mode\":\"hybrid\",\"fusion\":{\"method\":\"rrf\",\"k\":60}}");
        ObjectNode none = Json.mapper().createObjectNode();
        QueryMode.DEFAULT.applyTo(none);
        assertThat(none.isEmpty()).isTrue(); // no --mode: the job's default mode
    }

    private static final EvalSet.Query Q = new EvalSet.Query("token_bytes", Set.of("py:secrets.token_bytes"), "default", "name");

    @Test
    void aModeAnsweredOnlyModeUnsupportedIsReportedAsUnsupportedNotAsScoresOfZero() {
        EvalCommand.ModeResult keyword = new EvalCommand.ModeResult("keyword");
        keyword.add(Q, new EvalCommand.Answer("mode_unsupported", List.of(), false, 3));
        keyword.add(Q, new EvalCommand.Answer("mode_unsupported", List.of(), false, 4));
        assertThat(keyword.unsupported()).isTrue();
        assertThat(keyword.json()).containsEntry("supported", false).containsEntry("mrr_at_10", null);
        String table = EvalCommand.table(List.of(keyword), 2);
        assertThat(table).contains("unsupported").contains("mode_unsupported=2").doesNotContain("0.000");
    }

    @Test
    void unansweredAndFailedQueriesAreCountedAndLeftOutOfTheScores() {
        EvalCommand.ModeResult dense = new EvalCommand.ModeResult("dense");
        dense.add(Q, new EvalCommand.Answer("ok", List.of("x", "py:secrets.token_bytes"), true, 40));
        dense.add(Q, null); // no answer within --timeout
        dense.add(Q, new EvalCommand.Answer("overloaded", List.of(), false, 5));
        assertThat(dense.unsupported()).isFalse();
        assertThat(dense.ok()).isEqualTo(1);
        assertThat(dense.json()).containsEntry("sent", 3).containsEntry("unanswered", 1).containsEntry("cache_hits", 1)
                .containsEntry("mrr_at_10", 0.5).containsEntry("p50_ms", 40.0);
        assertThat(EvalCommand.table(List.of(dense), 3)).contains("1/3").contains("0.500").contains("overloaded=1");
    }

    @Test
    void outGetsEvalJsonAndBothChartsEvenWhenAModeHasNoScore(@TempDir Path dir) throws Exception {
        EvalCommand e = eval("eval", "--queries", "q.jsonl", "--out", dir.resolve("run").toString());
        EvalCommand.ModeResult dense = new EvalCommand.ModeResult("dense");
        dense.add(Q, new EvalCommand.Answer("ok", List.of("py:secrets.token_bytes"), false, 12));
        EvalCommand.ModeResult keyword = new EvalCommand.ModeResult("keyword");
        keyword.add(Q, new EvalCommand.Answer("mode_unsupported", List.of(), false, 2));
        e.write(List.of(dense, keyword));
        var report = Json.parse(Files.readString(dir.resolve("run/eval.json")));
        assertThat(report.path("modes").get(0).path("ndcg_at_10").asDouble()).isEqualTo(1.0);
        assertThat(report.path("modes").get(1).path("supported").asBoolean()).isFalse();
        assertThat(dir.resolve("run/eval-quality.png")).isNotEmptyFile();
        assertThat(dir.resolve("run/eval-latency.png")).isNotEmptyFile();
    }
}
