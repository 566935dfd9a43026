package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BatchSizeControllerTest {

    /** Feeds batches whose time follows a + b * tokens exactly. */
    private static BatchSizeController trained(double a, double b, long latencyMs) {
        return trained(256, a, b, 0, latencyMs);
    }

    /** Feeds batches of the sizes the controller asks for, timed a + b*T + c*T^2 exactly. */
    private static BatchSizeController trained(int startTokens, double a, double b, double c, long latencyMs) {
        BatchSizeController ctl = new BatchSizeController(startTokens, 16384, latencyMs);
        for (int i = 0; i < 60; i++) {
            // batches rarely fill their budget exactly, and one chunk may exceed a tiny budget
            long tokens = Math.max(16, ctl.nextBatchTokens() - (i % 3) * 32L) + (i % 2) * 8L;
            ctl.record(tokens, a + b * tokens + c * tokens * tokens);
        }
        return ctl;
    }

    @Test
    void cheapTokensGrowTheBatchUntilFixedOverheadIsAboutFivePercent() {
        // a = 10 ms, b = 0.01 ms/token: 5% overhead at 19 * 10 / 0.01 = 19,000 tokens, above the cap.
        assertThat(trained(10, 0.01, 10_000).targetTokens()).isEqualTo(16384);
        // a = 2 ms, b = 0.02 ms/token: 5% overhead at 1,900 tokens, well within 200 ms.
        assertThat(trained(2, 0.02, 200).targetTokens()).isBetween(1900, 2100);
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
        // a = 2 ms, b = 0.35 ms/token: 5% overhead at 20 * 2 / 0.35 = ~114 tokens, about one chunk.
        assertThat(trained(2, 0.35, 200).targetTokens()).isBetween(100, 130);
    }

    @Test
    void withoutFixedOverheadEachTextIsItsOwnBatch() {
        // Cost proportional to padded tokens: batching only adds padding, so the budget shrinks
        // below one chunk (a batch always takes its oldest chunk, so one text per batch).
        assertThat(trained(0, 0.2, 200).targetTokens()).isLessThan(16);
    }

    @Test
    void batchesThatGetSlowerPerTokenAsTheyGrowAreAvoided() {
        // a = 40 ms, b = 0.1 ms/token, c = 1e-4 ms/token^2: time per token is lowest (0.2265 ms) at
        // sqrt(a/c) = 632 tokens; the smallest batch within 5% of that is ~415 tokens. A linear fit
        // of the same batches would grow them towards the latency cap instead.
        BatchSizeController c = trained(64, 40, 0.1, 1e-4, 10_000);
        assertThat(c.targetTokens()).isBetween(380, 450);
        double t = c.targetTokens();
        assertThat((40 + 0.1 * t + 1e-4 * t * t) / t).isLessThanOrEqualTo(1.05 * 0.2265 + 1e-3);
    }

    @Test
    void probesAtHalfAndTwiceTheTargetKeepTheFitDefined() {
        BatchSizeController c = trained(64, 40, 0.1, 1e-4, 10_000);
        int target = c.targetTokens();
        java.util.Set<Integer> asked = new java.util.TreeSet<>();
        for (int i = 0; i < 4; i++) {
            asked.add(c.nextBatchTokens());
            c.record(target, 40 + 0.1 * target + 1e-4 * target * target);
        }
        assertThat(asked).contains(target / 2, 2 * target);
    }

    @Test
    void growthIsAtMostTwofoldPerBatch() {
        BatchSizeController c = new BatchSizeController(256, 16384, 10_000);
        int before = c.targetTokens();
        c.record(before, 1);
        assertThat(c.targetTokens()).isLessThanOrEqualTo(2 * before);
    }

    /**
     * Feeds 400 batches of the chunk counts the controller asks for (chunks of 40-256 tokens,
     * padded to the longest), timed a + b*T plus Gaussian noise; returns the share of batches
     * whose target held more than one 120-token chunk over the last 300, and the last target.
     */
    private static double[] noisy(double a, double b, double noiseMs, long seed) {
        java.util.Random random = new java.util.Random(seed);
        BatchSizeController ctl = new BatchSizeController(512, 16384, 200);
        int multiChunk = 0;
        for (int i = 0; i < 400; i++) {
            int chunks = Math.max(1, ctl.nextBatchTokens() / 120);
            long tokens = (long) chunks * (40 + random.nextInt(217));
            ctl.record(tokens, Math.max(0.1, a + b * tokens + noiseMs * random.nextGaussian()));
            if (i >= 100 && ctl.targetTokens() >= 120) {
                multiChunk++;
            }
        }
        return new double[] {multiChunk / 300.0, ctl.targetTokens()};
    }

    @Test
    void timingNoiseIsNotMistakenForAFixedOverhead() {
        // No fixed cost, 3 ms of noise on ~30 ms batches (a busy 2-core machine): a fitted
        // overhead of a few ms is noise, and acting on it would batch (and pad) for nothing.
        for (long seed = 1; seed <= 5; seed++) {
            assertThat(noisy(0, 0.25, 3, seed)[0]).as("seed %d", seed).isLessThan(0.1);
        }
    }

    @Test
    void aRealFixedOverheadStillGrowsTheBatchThroughTheSameNoise() {
        // a = 20 ms stands out of 3 ms noise: 5% overhead wants ~1,500 tokens, 200 ms allows ~720.
        for (long seed = 1; seed <= 5; seed++) {
            assertThat(noisy(20, 0.25, 3, seed)[1]).as("seed %d", seed).isGreaterThan(400);
        }
    }

    @Test
    void batchesTooSlowForTheLatencyTargetShrinkToOneText() {
        // a = 150 ms, b = 1 ms/token: only 50 tokens fit in 200 ms, less than one chunk.
        assertThat(trained(150, 1.0, 200).targetTokens()).isBetween(40, 60);
    }
}
