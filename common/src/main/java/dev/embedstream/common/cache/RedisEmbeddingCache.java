package dev.embedstream.common.cache;

import dev.embedstream.common.Hashing;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis level of the embedding cache. Keys name the model fingerprint, the tenant and the
 * sha256 of the text; values are the vector as raw little-endian float32 (4 bytes a dimension),
 * written with a TTL.
 *
 * <p>It fails open: every command has a short timeout, the request queue is bounded and rejects
 * when full, commands are rejected at once while disconnected, and a circuit breaker stops
 * calling a failing Redis for a while, so a dead Redis costs about one timeout per breaker window
 * rather than one per batch. A failed lookup is a miss; a failed write is dropped.
 */
public final class RedisEmbeddingCache implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisEmbeddingCache.class);
    public static final int MAX_QUEUED_COMMANDS = 4096;

    /** One cache entry to look up or store. */
    public record Key(String tenant, String text) {}

    private final RedisURI uri;
    private final String prefix;
    private final long ttlSeconds;
    private final Duration timeout;
    private final CircuitBreaker breaker;
    private RedisClient client;
    private StatefulRedisConnection<byte[], byte[]> connection;

    public RedisEmbeddingCache(String redisUri, String fingerprint, Duration ttl, Duration timeout) {
        this.uri = RedisURI.create(redisUri);
        this.prefix = "embedstream:emb:" + fingerprint + ":";
        this.ttlSeconds = Math.max(1, ttl.toSeconds());
        this.timeout = timeout;
        this.breaker = CircuitBreaker.of("redis-embedding-cache", CircuitBreakerConfig.custom()
                .slidingWindowSize(10)
                .minimumNumberOfCalls(3)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofSeconds(5))
                .permittedNumberOfCallsInHalfOpenState(1)
                .build());
    }

    public CircuitBreaker.State breakerState() {
        return breaker.getState();
    }

    byte[] redisKey(Key k) {
        return (prefix + k.tenant() + ":" + Hashing.sha256Hex(k.text())).getBytes(StandardCharsets.UTF_8);
    }

    /** Vectors found for {@code keys}; anything missing, or a Redis failure, is a miss. */
    public Map<Key, float[]> getAll(List<Key> keys) {
        Map<Key, float[]> hits = new HashMap<>();
        if (keys.isEmpty() || !breaker.tryAcquirePermission()) {
            return hits;
        }
        long t0 = System.nanoTime();
        try {
            byte[][] redisKeys = new byte[keys.size()][];
            for (int i = 0; i < keys.size(); i++) {
                redisKeys[i] = redisKey(keys.get(i));
            }
            List<KeyValue<byte[], byte[]>> values =
                    connection().async().mget(redisKeys).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            for (int i = 0; i < values.size(); i++) {
                KeyValue<byte[], byte[]> kv = values.get(i);
                if (kv.hasValue()) {
                    hits.put(keys.get(i), decode(kv.getValue()));
                }
            }
            breaker.onSuccess(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        } catch (Exception e) {
            failed("lookup", e, t0);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        return hits;
    }

    /** Stores vectors with the TTL, without waiting for Redis to confirm. */
    public void putAll(Map<Key, float[]> entries) {
        if (entries.isEmpty() || !breaker.tryAcquirePermission()) {
            return;
        }
        long t0 = System.nanoTime();
        try {
            var async = connection().async();
            for (Map.Entry<Key, float[]> e : entries.entrySet()) {
                async.setex(redisKey(e.getKey()), ttlSeconds, encode(e.getValue()));
            }
            breaker.onSuccess(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            failed("write-back", e, t0);
        }
    }

    private void failed(String what, Exception e, long t0) {
        breaker.onError(System.nanoTime() - t0, TimeUnit.NANOSECONDS, e);
        LOG.warn("Redis embedding cache {} failed ({}); continuing without it (breaker {})",
                what, e.toString(), breaker.getState());
    }

    /** Connects on first use: a Redis that is down at start-up is a cache miss, not a failure. */
    private synchronized StatefulRedisConnection<byte[], byte[]> connection() {
        if (connection == null) {
            if (client == null) {
                client = RedisClient.create();
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

    static byte[] encode(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    static float[] decode(byte[] bytes) {
        float[] v = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    @Override
    public synchronized void close() {
        if (connection != null) {
            connection.close();
        }
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }
}
