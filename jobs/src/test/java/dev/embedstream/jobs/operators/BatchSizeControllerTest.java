package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchSizeControllerTest {

    /** Feeds batches whose time follows a + b * tokens exactly. */
    private static BatchSizeController trained(double a, double b, long latencyMs) {
        BatchSizeController c = new BatchSizeController(256, 16384, latencyMs);
        for (int i = 0; i < 40; i++) {
            long tokens = c.targetTokens() - (i % 4) * 64L; // some spread so the fit is defined
            c.record(tokens, a + b * tokens);
        }
        return c;
    }

    @Test
    void cheapTokensGrowTheBatchUntilFixedOverheadIsAboutFivePercent() {
        // a = 10 ms, b = 0.01 ms/token: 5% overhead at 19 * 10 / 0.01 = 19,000 tokens, above the cap.
        assertThat(trained(10, 0.01, 10_000).targetTokens()).isEqualTo(16384);
        // a = 2 ms, b = 0.02 ms/token: 5% overhead at 1,900 tokens, well within 200 ms.
        assertThat(trained(2, 0.02, 200).targetTokens()).isBetween(1800, 2000);
    }

    @Test
    void costlyTokensCapTheBatchAtTheLatencyTarget() {
        // a = 20 ms, b = 0.35 ms/token: 5% overhead would need ~1,086 tokens (400 ms); 200 ms allows ~514.
        BatchSizeController c = trained(20, 0.35, 200);
        assertThat(c.targetTokens()).isBetween(480, 520);
        assertThat(20 + 0.35 * c.targetTokens()).isLessThanOrEqualTo(200.0 + 1e-6);
    }

    @Test
    void smallOverheadNeedsNoBigBatch() {
        // a = 2 ms, b = 0.35 ms/token: one 256-token window already has ~2% overhead.
        assertThat(trained(2, 0.35, 200).targetTokens()).isEqualTo(256);
    }

    @Test
    void growthIsAtMostTwofoldPerBatch() {
        BatchSizeController c = new BatchSizeController(256, 16384, 10_000);
        int before = c.targetTokens();
        c.record(before, 1);
        assertThat(c.targetTokens()).isLessThanOrEqualTo(2 * before);
    }

    @Test
    void neverBelowOneFullWindow() {
        assertThat(trained(150, 1.0, 200).targetTokens()).isEqualTo(256);
    }
}
