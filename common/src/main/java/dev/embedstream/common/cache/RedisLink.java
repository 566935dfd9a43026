package dev.embedstream.common.cache;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lettuce connection to Redis that fails open, shared by the caches of one operator.
 *
 * <p>Every command has a deadline ({@code redis.timeout}), the request queue is bounded and
 * rejects when full, commands are rejected at once while disconnected (no queueing for a dead
 * server), and a resilience4j circuit breaker stops calling a failing Redis for 5 s, so a dead
 * Redis costs a few timeouts per window rather than one per record. Callers get "nothing" on any
 * failure and carry on without the cache. TLS comes from the URI ({@code rediss://...}); the AUTH
 * password from {@code redis.password} (or the URI, {@code redis://:password@host:port}). The connection is made on first
 * use, so a Redis that is down at start-up is a miss, not a failure.
 *
 * <p>Every link of the job in this JVM shares one set of lettuce client resources (thread pools:
 * {@link SharedClientResources}); each link has its own client, options and connection.
 */
public final class RedisLink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);
    public static final int MAX_QUEUED_COMMANDS = 4096;
    static final Duration OPEN_STATE_WAIT = Duration.ofSeconds(5);

    private final String name;
    private final RedisURI uri;
    private final Duration timeout;
    private final CircuitBreaker breaker;
    private volatile LongConsumer latencyMicros = micros -> { };
    private SharedClientResources.Lease lease;
    private boolean closed;
    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;

    public RedisLink(String name, String redisUri, Duration timeout) {
        this(name, redisUri, null, timeout);
    }

    /** @param password AUTH password kept out of the URI (so it can be masked in configuration), or null */
    public RedisLink(String name, String redisUri, String password, Duration timeout) {
        this.name = name;
        this.uri = RedisURI.create(redisUri);
        if (password != null && !password.isEmpty()) {
            uri.setAuthentication(password.toCharArray());
        }
        this.timeout = timeout;
        this.breaker = CircuitBreaker.of("redis-" + name, CircuitBreakerConfig.custom()
                .slidingWindowSize(10)
                .minimumNumberOfCalls(3)
                .failureRateThreshold(50)
                .waitDurationInOpenState(OPEN_STATE_WAIT)
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
    }

    /** Told the duration of every answered command, in microseconds (for a latency histogram). */
    public void onLatency(LongConsumer micros) {
        this.latencyMicros = micros;
    }

    public CircuitBreaker.State breakerState() {
        return breaker.getState();
    }

    public boolean breakerClosed() {
        return breaker.getState() == CircuitBreaker.State.CLOSED;
    }

    /**
     * Runs one command and waits for it at most {@code redis.timeout}. Empty when the breaker is
     * open or the command fails or times out (the failure is counted by the breaker).
     */
    public <T> Optional<T> call(String what, Function<RedisAsyncCommands<byte[], byte[]>, RedisFuture<T>> command) {
        if (!breaker.tryAcquirePermission()) {
            return Optional.empty();
        }
        long t0 = System.nanoTime();
        try {
            T value = command.apply(connection().async()).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            succeeded(t0);
            return Optional.ofNullable(value);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failed(what, e, t0);
        } catch (Exception e) {
            failed(what, e, t0);
        }
        return Optional.empty();
    }

    /**
     * Sends commands without waiting for them (cache writes). A failure, reported when it
     * completes, is counted by the breaker and otherwise dropped. False when nothing was sent.
     */
    public boolean send(String what, Function<RedisAsyncCommands<byte[], byte[]>, List<RedisFuture<?>>> commands) {
        if (!breaker.tryAcquirePermission()) {
            return false;
        }
        long t0 = System.nanoTime();
        try {
            List<RedisFuture<?>> sent = commands.apply(connection().async());
            if (sent.isEmpty()) {
                succeeded(t0);
                return true;
            }
            RedisFuture<?> last = sent.get(sent.size() - 1);
            last.whenComplete((v, error) -> {
                if (error == null) {
                    succeeded(t0);
                } else {
                    failed(what, error, t0);
                }
            });
            return true;
        } catch (RuntimeException e) {
            failed(what, e, t0);
            return false;
        }
    }

    private void succeeded(long t0) {
        long nanos = System.nanoTime() - t0;
        breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
        latencyMicros.accept(nanos / 1_000);
    }

    private void failed(String what, Throwable e, long t0) {
        CircuitBreaker.State before = breaker.getState();
        breaker.onError(System.nanoTime() - t0, TimeUnit.NANOSECONDS, e);
        CircuitBreaker.State after = breaker.getState();
        if (before != after || before == CircuitBreaker.State.CLOSED) {
            LOG.warn("Redis {} {} failed ({}); continuing without it (breaker {})", name, what, e, after);
        }
    }

    private synchronized StatefulRedisConnection<byte[], byte[]> connection() {
        if (closed) {
            // Never connect again: that would take a lease nobody releases.
            throw new IllegalStateException("Redis link " + name + " is closed");
        }
        if (connection == null) {
            if (client == null) {
                lease = SharedClientResources.acquire();
                client = RedisClient.create(lease.resources());
                client.setOptions(ClientOptions.builder()
                        .timeoutOptions(TimeoutOptions.enabled(timeout))
                        .socketOptions(SocketOptions.builder().connectTimeout(timeout.multipliedBy(10)).build())
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .requestQueueSize(MAX_QUEUED_COMMANDS)
                        .autoReconnect(true)
                        .build());
            }
            connection = client.connect(ByteArrayCodec.INSTANCE, uri);
        }
        return connection;
    }

    /** The client resources this link uses, or null before its first command (for tests). */
    synchronized ClientResources resources() {
        return lease == null ? null : lease.resources();
    }

    /**
     * Closes the connection and the client; the shared client resources shut down when this was
     * their last user. Closing again does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            // A client built on resources it was given leaves them running.
            client.shutdown(Duration.ZERO, SharedClientResources.SHUTDOWN_TIMEOUT);
        }
        if (lease != null) {
            lease.close();
        }
    }
}
