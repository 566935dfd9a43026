package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.json.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The overload benchmark counts answers by what a client must do next: retry later (overloaded,
 * rate_limited), give up (expired) or use it (ok); so an error answer is counted under its code,
 * not under a blanket "error".
 */
class BenchQueriesStatusTest {

    @Test
    void anErrorAnswerIsCountedUnderItsCodeAndOtherAnswersUnderTheirStatus() {
        assertThat(BenchQueriesCommand.terminal(read("{\"status\":\"ok\",\"hits\":[]}"))).isEqualTo("ok");
        assertThat(BenchQueriesCommand.terminal(read("{\"status\":\"expired\"}"))).isEqualTo("expired");
        assertThat(BenchQueriesCommand.terminal(read(
                "{\"status\":\"error\",\"error\":{\"code\":\"rate_limited\",\"message\":\"m\"},\"retry_after_ms\":200}")))
                .isEqualTo("rate_limited");
        assertThat(BenchQueriesCommand.terminal(read("{\"status\":\"error\",\"error\":{\"code\":\"overloaded\"}}")))
                .isEqualTo("overloaded");
        assertThat(BenchQueriesCommand.terminal(read("{\"status\":\"error\"}"))).isEqualTo("error");
    }

    private static Map<?, ?> read(String json) {
        return Json.read(json, Map.class);
    }
}
