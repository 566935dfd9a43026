package dev.embedstream.common.quota;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A token bucket (bucket4j) per tenant at the tenant's {@link TenantRates rate}, holding at most
 * one second's worth of tokens (at least one whole token); tenants without a limit get none. The
 * buckets of at most {@code maxTenants} tenants are kept (Caffeine, least recently used out): a
 * dropped tenant's bucket starts full again. Not thread-safe across operators: one per subtask.
 */
public final class TenantBuckets {

    private final TenantRates rates;
    private final TimeMeter clock;
    private final Cache<String, Bucket> buckets;

    /** Buckets on the system's nanosecond clock. */
    public TenantBuckets(TenantRates rates, int maxTenants) {
        this(rates, maxTenants, System::nanoTime);
    }

    /** @param nanos the clock, for tests (harness processing time) */
    public TenantBuckets(TenantRates rates, int maxTenants, LongSupplier nanos) {
        this.rates = rates;
        this.clock = new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return nanos.getAsLong();
            }

            @Override
            public boolean isWallClockBased() {
                return false;
            }
        };
        this.buckets = Caffeine.newBuilder().maximumSize(maxTenants).executor(Runnable::run).build();
    }

    public TenantRates rates() {
        return rates;
    }

    private Bucket bucketOf(String tenant) {
        double rate = rates.of(tenant);
        if (rate == 0) {
            return null;
        }
        return buckets.get(tenant, t -> {
            long capacity = Math.max(1, (long) Math.ceil(rate));
            // `capacity` tokens every capacity/rate seconds: exactly `rate` per second, also below 1.
            Duration period = Duration.ofNanos(Math.max(1, Math.round(capacity / rate * 1e9)));
            return Bucket.builder()
                    .addLimit(Bandwidth.builder().capacity(capacity).refillGreedy(capacity, period).build())
                    .withCustomTimePrecision(clock).build();
        });
    }

    /**
     * Takes {@code tokens} from the tenant's bucket when it holds them.
     *
     * @return 0 when taken (or the tenant has no limit), else the nanoseconds until they would be
     */
    public long tryTake(String tenant, long tokens) {
        Bucket b = bucketOf(tenant);
        if (b == null) {
            return 0;
        }
        ConsumptionProbe probe = b.tryConsumeAndReturnRemaining(tokens);
        return probe.isConsumed() ? 0 : Math.max(1, probe.getNanosToWaitForRefill());
    }

    /**
     * True when the tenant may start more work now: it has no limit, or its bucket is not in debt.
     * Work bigger than a whole bucket (one long chunk) is never starved: it is {@link #charge charged}
     * after it starts, and the debt delays what comes next.
     */
    public boolean mayStart(String tenant) {
        Bucket b = bucketOf(tenant);
        return b == null || b.getAvailableTokens() > 0;
    }

    /** Charges work that was started, into debt if need be. */
    public void charge(String tenant, long tokens) {
        Bucket b = bucketOf(tenant);
        if (b != null && tokens > 0) {
            b.consumeIgnoringRateLimits(tokens);
        }
    }

    /** Nanoseconds until the tenant's bucket is out of debt (0 when it may start now). */
    public long nanosUntilStart(String tenant) {
        Bucket b = bucketOf(tenant);
        if (b == null || b.getAvailableTokens() > 0) {
            return 0;
        }
        return Math.max(1, b.estimateAbilityToConsume(1).getNanosToWaitForRefill());
    }
}
