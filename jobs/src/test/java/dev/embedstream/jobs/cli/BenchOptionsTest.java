package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/** The bench commands' shared options (picocli mixins) reach each command, with their defaults. */
class BenchOptionsTest {

    private static ParseResult parse(String... args) {
        return new CommandLine(new EmbedstreamCli()).registerConverter(Duration.class, EmbedstreamCli::parseDuration)
                .parseArgs(args);
    }

    @Test
    void benchQueriesPlansItsLoadFromTheLoadOptionsWithThePeakDefaultingToFiveTimesTheRate() {
        ParseResult r = parse("bench-queries", "--queries", "q.txt", "--rate", "10", "--shape", "ramp", "--duration", "30s");
        BenchQueriesCommand bench = (BenchQueriesCommand) r.subcommand().commandSpec().userObject();
        assertThat(bench.load.plan()).isEqualTo(new LoadShape.Plan(LoadShape.RAMP, 10, 50, 5, 30));
        assertThat(bench.report.out).isNull();
    }

    @Test
    void bothBenchCommandsTakeOutAndBenchModelItsEngineOptions() {
        BenchQueriesCommand queries = (BenchQueriesCommand) parse("bench-queries", "--queries", "q.txt", "--out", "q.json")
                .subcommand().commandSpec().userObject();
        assertThat(queries.report.out).isEqualTo(Path.of("q.json"));
        BenchModelCommand model = (BenchModelCommand) parse("bench-model", "--threads", "4", "--out", "m.json")
                .subcommand().commandSpec().userObject();
        assertThat(model.report.out).isEqualTo(Path.of("m.json"));
        assertThat(model.runtime.threads).isEqualTo(4);
        assertThat(model.runtime.parallel).isEqualTo(2);
        assertThat(model.runtime.cacheDir).isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "embedstream-models"));
    }
}
