package dev.embedstream.jobs.operators;

/**
 * Chooses how many padded tokens the next document batch may hold, from the measured cost of
 * recent batches. Inference time is fitted (least squares over a sliding window) as
 * {@code a + b*T + c*T^2} for {@code T} padded tokens: a fixed overhead per batch, a cost per
 * token, and a term for batches that get slower per token as they grow (on a small CPU cache,
 * activations of a large batch no longer fit; measured by {@code embedstream bench-model}).
 Time per token, {@code a/T + b + c*T}, is lowest at {@code T = sqrt(a/c)}; the target is the
 * smallest batch whose time per token is within 5% of that best, or one text per batch when the
 * fixed overhead does not stand out from the timing noise (two standard errors). For a cost linear in tokens
 * ({@code c = 0}) this is the batch whose fixed overhead is about 5% of its time, {@code T = 20 a/b},
 * the rule of Apache Beam's BatchElements; when large batches get slower it stops short of them.
 * The target is capped so that one batch runs within the latency target, kept within the configured
 * bounds, and grows at most 2x per step. So that the fit sees a spread of sizes, every fourth
 * batch asks for half the target and every fourth for twice it (within the bounds). Queries never
 * wait behind more than one such batch.
 */
final class BatchSizeController {

    static final int WINDOW = 48;
    /** Fixed overhead share the linear rule aims at: a / (a + b*T) = 5% gives T = 19 a / b. */
    static final double OVERHEAD_SHARE = 0.05;
    /** Token counts are fitted in thousands, which keeps the normal equations well conditioned. */
    private static final double SCALE = 1000.0;
    /**
     * A fixed overhead counts only when it is this many standard errors above zero: on a busy
     * machine batch times are noisy, and a fitted overhead of a few milliseconds that is noise
     * would otherwise buy batches of several texts and their padding for nothing.
     */
    static final double SIGNIFICANCE = 2.0;

    private final int minTokens;
    private final int maxTokens;
    private final double latencyTargetMs;
    private final double[] x = new double[WINDOW];
    private final double[] y = new double[WINDOW];
    private int samples;
    private int next;
    private int target;
    private long batches;

    /**
     * @param startTokens the budget before any batch has been measured
     * @param maxTokens the largest budget ({@code batch.max-tokens})
     */
    BatchSizeController(int startTokens, int maxTokens, long latencyTargetMs) {
        this.minTokens = 1; // a batch always takes its oldest chunk: a budget below one chunk means one text per batch
        this.maxTokens = Math.max(startTokens, maxTokens);
        this.latencyTargetMs = latencyTargetMs;
        this.target = Math.min(this.maxTokens, startTokens);
    }

    /** The fitted optimum: what the controller believes is the best batch. */
    int targetTokens() {
        return target;
    }

    /** The token budget of the next batch: the target, or a probe at half or twice it. */
    int nextBatchTokens() {
        return switch ((int) (batches % 4)) {
            case 1 -> clamp(target / 2);
            case 3 -> clamp(2L * target);
            default -> target;
        };
    }

    /** Records one batch's padded tokens and inference time, and updates the target. */
    void record(long paddedTokens, double millis) {
        batches++;
        x[next] = paddedTokens / SCALE;
        y[next] = millis;
        next = (next + 1) % WINDOW;
        samples = Math.min(samples + 1, WINDOW);
        double wanted = wanted(millis);
        target = clamp((long) Math.min(wanted, 2.0 * target));
    }

    private double wanted(double lastMillis) {
        int terms = 3;
        double[] f = samples >= 6 ? fit(terms) : null;
        if (f == null || f[2] < 0) {
            terms = 2;
            double[] l = samples >= 4 ? fit(terms) : null;
            f = l == null ? null : new double[] {l[0], l[1], 0};
        }
        if (f == null || f[1] + 2 * Math.sqrt(Math.max(0, f[0]) * f[2]) <= 0) {
            // Not enough spread to fit yet: explore upwards, still within the latency target.
            if (lastMillis < latencyTargetMs / 2) {
                return 2.0 * target;
            }
            return lastMillis > latencyTargetMs ? target / 2.0 : target;
        }
        double a = f[0];
        double b = f[1];
        double c = f[2];
        if (a <= SIGNIFICANCE * interceptStdError(f, terms)) {
            // No fixed cost to spread, or none that stands out from the timing noise: batching buys
            // nothing measurable, padding only costs.
            return minTokens;
        }
        // Time per token a/T + b + c*T is lowest at sqrt(a/c) (never, for c = 0). Take the smallest
        // batch within 5% of that best: solve a/T + b + c*T = (1 + share) * best for the smaller T.
        double best = b + 2 * Math.sqrt(a * c);
        double k = (1 + OVERHEAD_SHARE) * best - b;
        double efficient = c < 1e-12 ? a / k : (k - Math.sqrt(Math.max(0, k * k - 4 * a * c))) / (2 * c);
        // a + b*T + c*T^2 = latency target: the larger root (the linear one for c = 0).
        double withinLatency = c < 1e-12 ? (latencyTargetMs - a) / b
                : (-b + Math.sqrt(Math.max(0, b * b - 4 * c * (a - latencyTargetMs)))) / (2 * c);
        return SCALE * Math.min(efficient, withinLatency);
    }

    private int clamp(long tokens) {
        return (int) Math.max(minTokens, Math.min(maxTokens, tokens));
    }

    /**
     * Least-squares polynomial of {@code terms} coefficients (2: a + bT, 3: a + bT + cT^2) over
     * the window, or null when the points do not determine it.
     */
    private double[] fit(int terms) {
        return solve(normalEquations(terms));
    }

    /**
     * Standard error of the fitted fixed overhead {@code f[0]}: the residual variance times the
     * first diagonal element of the inverse of the normal matrix.
     */
    private double interceptStdError(double[] f, int terms) {
        double rss = 0;
        for (int i = 0; i < samples; i++) {
            double r = y[i] - (f[0] + f[1] * x[i] + f[2] * x[i] * x[i]);
            rss += r * r;
        }
        double[][] m = normalEquations(terms);
        for (int r = 0; r < terms; r++) {
            m[r][terms] = r == 0 ? 1 : 0; // solve for the first column of the inverse
        }
        double[] inverseColumn = solve(m);
        return inverseColumn == null ? 0 : Math.sqrt(Math.max(0, rss / (samples - terms) * inverseColumn[0]));
    }

    /** The normal equations {@code X'X | X'y} of the window for {@code terms} coefficients. */
    private double[][] normalEquations(int terms) {
        double[][] m = new double[terms][terms + 1];
        for (int i = 0; i < samples; i++) {
            double[] p = new double[terms];
            p[0] = 1;
            for (int k = 1; k < terms; k++) {
                p[k] = p[k - 1] * x[i];
            }
            for (int r = 0; r < terms; r++) {
                for (int col = 0; col < terms; col++) {
                    m[r][col] += p[r] * p[col];
                }
                m[r][terms] += p[r] * y[i];
            }
        }
        return m;
    }

    /** Gauss-Jordan elimination with partial pivoting on an augmented matrix; null if singular. */
    private static double[] solve(double[][] m) {
        int n = m.length;
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) {
                    pivot = r;
                }
            }
            if (Math.abs(m[pivot][col]) < 1e-9 * Math.max(1, Math.abs(m[0][0]))) {
                return null;
            }
            double[] swap = m[col];
            m[col] = m[pivot];
            m[pivot] = swap;
            for (int r = 0; r < n; r++) {
                if (r != col) {
                    double f = m[r][col] / m[col][col];
                    for (int k = col; k <= n; k++) {
                        m[r][k] -= f * m[col][k];
                    }
                }
            }
        }
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            out[r] = m[r][n] / m[r][r];
        }
        return out;
    }
}
