package dev.embedstream.common.quota;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TenantBucketsTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Test
    void aTenantGetsItsRateAndABurstOfOneSecondThenIsToldHowLongToWait() {
        TenantBuckets b = new TenantBuckets(TenantRates.of(5, Map.of()), 100, nanos::get);
        for (int i = 0; i < 5; i++) {
            assertThat(b.tryTake("a", 1)).isZero();
        }
        long wait = b.tryTake("a", 1);
        assertThat(wait).isBetween(199_000_000L, 200_000_000L);
        nanos.addAndGet(wait);
        assertThat(b.tryTake("a", 1)).isZero();
    }

    @Test
    void oneTenantOverItsQuotaLeavesTheOthersAlone() {
        TenantBuckets b = new TenantBuckets(TenantRates.of(2, Map.of("gold", "0")), 100, nanos::get);
        assertThat(b.tryTake("a", 2)).isZero();
        assertThat(b.tryTake("a", 1)).isPositive();
        assertThat(b.tryTake("b", 2)).isZero();
        for (int i = 0; i < 1000; i++) {
            assertThat(b.tryTake("gold", 1)).as("an override of 0 is no limit").isZero();
        }
    }

    @Test
    void aRateBelowOnePerSecondStillAdmitsOneAndRefillsAtThatRate() {
        TenantBuckets b = new TenantBuckets(TenantRates.of(0.5, Map.of()), 100, nanos::get);
        assertThat(b.tryTake("a", 1)).isZero();
        assertThat(b.tryTake("a", 1)).isBetween(1_999_000_000L, 2_000_000_000L);
    }

    @Test
    void workBiggerThanTheBucketStartsAndItsDebtDelaysTheNext() {
        TenantBuckets b = new TenantBuckets(TenantRates.of(100, Map.of()), 100, nanos::get);
        assertThat(b.mayStart("a")).isTrue();
        b.charge("a", 300); // three seconds' worth: 200 tokens of debt
        assertThat(b.mayStart("a")).isFalse();
        assertThat(b.nanosUntilStart("a")).isBetween(2_000_000_000L, 2_010_000_000L);
        nanos.addAndGet(2_010_000_000L);
        assertThat(b.mayStart("a")).isTrue();
        assertThat(b.mayStart("unlimited-by-default-not")).isTrue();
    }

    @Test
    void sharesSplitEveryRateOverTheSubtasks() {
        TenantRates r = TenantRates.of(10, Map.of("a", "4")).share(2);
        assertThat(r.of("a")).isEqualTo(2.0);
        assertThat(r.of("other")).isEqualTo(5.0);
        assertThat(TenantRates.UNLIMITED.unlimited()).isTrue();
        assertThat(r.unlimited()).isFalse();
    }

    @Test
    void aRateThatIsNotANumberIsRefusedNamingItsTenant() {
        assertThatThrownBy(() -> TenantRates.of(1, Map.of("acme", "fast"))).hasMessageContaining("acme");
        assertThatThrownBy(() -> TenantRates.of(-1, Map.of())).hasMessageContaining(">= 0");
    }
}
