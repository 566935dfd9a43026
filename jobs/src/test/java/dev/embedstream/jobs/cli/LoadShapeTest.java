package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LoadShapeTest {

    private static LoadShape.Plan plan(LoadShape shape) {
        return new LoadShape.Plan(shape, 20, 100, 2, 20);
    }

    private static int sentBetween(long[] due, double fromS, double toS) {
        int n = 0;
        for (long d : due) {
            if (d >= fromS * 1e9 && d < toS * 1e9) {
                n++;
            }
        }
        return n;
    }

    @Test
    void everyShapeSendsTheIntegralOfItsRate() {
        // warm-up 2 s at 20/s = 40, then the shape over 20 s
        double[] expected = {
            40 + 20 * 20,                       // constant
            40 + 20 * (20 + 100) / 2.0,         // ramp: mean of base and peak
            40 + 2 * (2 * 100 + 8 * 20),        // burst: two 10 s periods
            40 + 18 * 20 + 2 * 100,             // spike
            40 + 20 * (20 + 100) / 2.0,         // wave: whole periods average the midpoint
        };
        LoadShape[] shapes = LoadShape.values();
        for (int k = 0; k < shapes.length; k++) {
            assertThat((double) plan(shapes[k]).sendTimesNanos().length).as(shapes[k].name())
                    .isCloseTo(expected[k], within(1.0));
        }
    }

    @Test
    void rampRisesFromBaseToPeak() {
        long[] due = plan(LoadShape.RAMP).sendTimesNanos();
        // first measured second ~ 22/s, last ~ 98/s
        assertThat(sentBetween(due, 2, 3)).isBetween(21, 23);
        assertThat(sentBetween(due, 21, 22)).isBetween(97, 99);
    }

    @Test
    void burstHoldsThePeakForAFifthOfEachPeriod() {
        long[] due = plan(LoadShape.BURST).sendTimesNanos();
        assertThat(sentBetween(due, 2, 4)).isBetween(199, 201);    // 2 s at the peak
        assertThat(sentBetween(due, 4, 12)).isBetween(159, 161);   // 8 s at the base
        assertThat(sentBetween(due, 12, 14)).isBetween(199, 201);  // the next period's burst
    }

    @Test
    void spikeIsOneTwoSecondPeakInTheMiddle() {
        long[] due = plan(LoadShape.SPIKE).sendTimesNanos();
        assertThat(sentBetween(due, 11, 13)).isBetween(199, 201);
        assertThat(sentBetween(due, 2, 11)).isBetween(179, 181);
        assertThat(sentBetween(due, 13, 22)).isBetween(179, 181);
    }

    @Test
    void perSecondTargetsMatchTheRate() {
        LoadShape.Plan wave = plan(LoadShape.WAVE);
        long[] due = wave.sendTimesNanos();
        for (int s = 0; s < 22; s++) {
            assertThat((double) sentBetween(due, s, s + 1)).as("second %d", s)
                    .isCloseTo(wave.expectedInSecond(s), within(1.01));
        }
        assertThat(wave.expectedInSecond(12)).isCloseTo(100, within(2.0)); // half a period in: the peak
    }

    @Test
    void sendTimesAreMonotonicAndWithinTheRun() {
        for (LoadShape shape : LoadShape.values()) {
            long[] due = plan(shape).sendTimesNanos();
            for (int i = 1; i < due.length; i++) {
                assertThat(due[i]).isGreaterThanOrEqualTo(due[i - 1]);
            }
            assertThat(due[due.length - 1]).isLessThanOrEqualTo(22_000_000_000L);
        }
    }
}
