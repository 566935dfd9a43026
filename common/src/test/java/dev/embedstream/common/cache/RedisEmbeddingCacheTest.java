package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Against the real redis-server started by scripts/test.sh. */
class RedisEmbeddingCacheTest {

    private static final float[] V = {0.25f, -1.5f, 3.0e-7f, Float.MIN_VALUE};

    private static RedisEmbeddingCache cache(String fingerprint) {
        return new RedisEmbeddingCache(TestServers.redisUri(), fingerprint, Duration.ofMinutes(5), Duration.ofMillis(500));
    }

    @Test
    void storedVectorComesBackBitExact() {
        String text = "text " + UUID.randomUUID();
        try (RedisEmbeddingCache c = cache("m1")) {
            var key = new RedisEmbeddingCache.Key("t", text);
            assertThat(c.getAll(List.of(key))).isEmpty();
            c.putAll(Map.of(key, V));
            assertThat(c.getAll(List.of(key))).containsKey(key);
            assertThat(c.getAll(List.of(key)).get(key)).containsExactly(V);
        }
    }

    @Test
    void keysSeparateTenantsAndModels() {
        String text = "shared " + UUID.randomUUID();
        try (RedisEmbeddingCache m1 = cache("m1"); RedisEmbeddingCache m2 = cache("m2")) {
            m1.putAll(Map.of(new RedisEmbeddingCache.Key("a", text), V));
            assertThat(m1.getAll(List.of(new RedisEmbeddingCache.Key("b", text)))).isEmpty();
            assertThat(m2.getAll(List.of(new RedisEmbeddingCache.Key("a", text)))).isEmpty();
            assertThat(m1.getAll(List.of(new RedisEmbeddingCache.Key("a", text)))).hasSize(1);
        }
    }

    @Test
    void entriesExpireAfterTheirTtl() throws Exception {
        var key = new RedisEmbeddingCache.Key("t", "short-lived " + UUID.randomUUID());
        try (RedisEmbeddingCache c = new RedisEmbeddingCache(TestServers.redisUri(), "m1", Duration.ofSeconds(1), Duration.ofMillis(500))) {
            c.putAll(Map.of(key, V));
            assertThat(c.getAll(List.of(key))).hasSize(1);
            Thread.sleep(2_100);
            assertThat(c.getAll(List.of(key))).isEmpty();
        }
    }

    @Test
    void deadRedisIsAMissAndTheBreakerStopsCallingIt() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (RedisEmbeddingCache c = new RedisEmbeddingCache("redis://127.0.0.1:" + closedPort, "m1",
                Duration.ofMinutes(5), Duration.ofMillis(100))) {
            var key = new RedisEmbeddingCache.Key("t", "x");
            for (int i = 0; i < 3; i++) {
                assertThat(c.getAll(List.of(key))).isEmpty();
                c.putAll(Map.of(key, V));
            }
            assertThat(c.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                assertThat(c.getAll(List.of(key))).isEmpty();
            }
            assertThat((System.nanoTime() - t0) / 1_000_000).as("1000 lookups while open, ms").isLessThan(1_000);
        }
    }
}
