package dev.embedstream.jobs.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The offered query rate of {@code bench-queries} over a run, between a base rate and a peak
 * ({@code t} in seconds from the end of the warm-up, which runs at the base rate; {@code D} the
 * measured duration):
 * <ul>
 *   <li>{@code CONSTANT}: the base rate;</li>
 *   <li>{@code RAMP}: linear from the base at t = 0 to the peak at t = D;</li>
 *   <li>{@code BURST}: the peak for the first 2 s of every 10 s, else the base (a square wave);</li>
 *   <li>{@code SPIKE}: the base, with one 2 s spike to the peak in the middle of the run;</li>
 *   <li>{@code WAVE}: a sinusoid between the base and the peak with a 20 s period, starting at the base.</li>
 * </ul>
 * Send times come from inverting the integral of the rate: query {@code i} is due when the
 * integral from the start reaches {@code i + 1}, so the count sent in any interval is the rate's
 * integral over it (to within one query) at any rate, and a slow answer never delays the next
 * send (open loop).
 */
enum LoadShape {
    CONSTANT, RAMP, BURST, SPIKE, WAVE;

    static final double BURST_PERIOD_S = 10;
    static final double BURST_LENGTH_S = 2;
    static final double SPIKE_LENGTH_S = 2;
    static final double WAVE_PERIOD_S = 20;
    /** Integration step: 0.1 ms, far finer than any inter-send gap these rates produce. */
    private static final double STEP_S = 1e-4;

    /** Queries per second at {@code t} seconds after the warm-up. */
    double rate(double t, double base, double peak, double duration) {
        return switch (this) {
            case CONSTANT -> base;
            case RAMP -> base + (peak - base) * Math.min(1, Math.max(0, t / duration));
            case BURST -> (t % BURST_PERIOD_S) < BURST_LENGTH_S ? peak : base;
            case SPIKE -> Math.abs(t - duration / 2) < SPIKE_LENGTH_S / 2 ? peak : base;
            case WAVE -> base + (peak - base) * (1 - Math.cos(2 * Math.PI * t / WAVE_PERIOD_S)) / 2;
        };
    }

    /** A run: warm-up at the base rate, then the shape; every time in seconds from the start. */
    record Plan(LoadShape shape, double base, double peak, double warmup, double duration) {

        double rateAt(double sinceStart) {
            return sinceStart < warmup ? base : shape.rate(sinceStart - warmup, base, peak, duration);
        }

        /** Due time of every query, in nanoseconds from the start, ascending. */
        long[] sendTimesNanos() {
            List<Long> due = new ArrayList<>();
            double integral = 0;
            long steps = Math.round((warmup + duration) / STEP_S);
            for (long k = 0; k < steps; k++) {
                double t = k * STEP_S;
                integral += rateAt(t + STEP_S / 2) * STEP_S; // midpoint rule
                while (integral >= due.size() + 1) {
                    due.add(Math.round((t + STEP_S) * 1e9));
                }
            }
            return due.stream().mapToLong(Long::longValue).toArray();
        }

        /** Queries the plan calls for in second {@code s} (from the start): the rate's integral over it. */
        double expectedInSecond(int s) {
            double sum = 0;
            int n = 1000;
            for (int k = 0; k < n; k++) {
                sum += rateAt(s + (k + 0.5) / n) / n;
            }
            return sum;
        }
    }
}
