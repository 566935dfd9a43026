package dev.embedstream.jobs.operators;

/**
 * Chooses how many padded tokens the next document batch may hold, from the measured cost of
 * recent batches. Inference time is fitted as {@code a + b * paddedTokens} (fixed overhead plus
 * per-token cost, least squares over a sliding window, as Apache Beam's BatchElements does for
 * size); the target is the batch whose fixed overhead is about 5% of its time, capped so that one
 * batch runs within the latency target, within the configured bounds, and grows at most 2x per
 * step. Queries never wait behind more than one such batch.
 */
final class BatchSizeController {

    static final int WINDOW = 32;
    /** Fixed overhead share the target aims at: a / (a + b*T) = 5% gives T = 19 a / b. */
    static final double OVERHEAD_SHARE = 0.05;

    private final int minTokens;
    private final int maxTokens;
    private final double latencyTargetMs;
    private final double[] x = new double[WINDOW];
    private final double[] y = new double[WINDOW];
    private int samples;
    private int next;
    private int target;

    BatchSizeController(int minTokens, int maxTokens, long latencyTargetMs) {
        this.minTokens = minTokens;
        this.maxTokens = Math.max(minTokens, maxTokens);
        this.latencyTargetMs = latencyTargetMs;
        this.target = Math.min(this.maxTokens, 2 * minTokens);
    }

    int targetTokens() {
        return target;
    }

    /** Records one batch's padded tokens and inference time, and updates the target. */
    void record(long paddedTokens, double millis) {
        x[next] = paddedTokens;
        y[next] = millis;
        next = (next + 1) % WINDOW;
        samples = Math.min(samples + 1, WINDOW);
        double[] fit = fit();
        if (fit == null) {
            // Not enough spread to fit yet: explore upwards, still within the latency target.
            if (millis < latencyTargetMs / 2) {
                target = clamp(2L * target);
            } else if (millis > latencyTargetMs) {
                target = clamp(target / 2);
            }
            return;
        }
        double a = fit[0];
        double b = fit[1];
        double efficient = (1 - OVERHEAD_SHARE) / OVERHEAD_SHARE * a / b;
        double withinLatency = (latencyTargetMs - a) / b;
        double wanted = Math.max(efficient, minTokens);
        wanted = Math.min(wanted, withinLatency);
        target = clamp((long) Math.min(wanted, 2.0 * target));
    }

    private int clamp(long tokens) {
        return (int) Math.max(minTokens, Math.min(maxTokens, tokens));
    }

    /** Least-squares {a, b} over the window; null when x has no spread or the slope is not positive. */
    private double[] fit() {
        if (samples < 4) {
            return null;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < samples; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= samples;
        my /= samples;
        double sxx = 0;
        double sxy = 0;
        for (int i = 0; i < samples; i++) {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        if (sxx < 1e-9 || sxy <= 0) {
            return null;
        }
        double b = sxy / sxx;
        double a = Math.max(0, my - b * mx);
        return new double[] {a, b};
    }
}
