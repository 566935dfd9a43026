package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The embedding cache's Redis level without a Redis server; with one: RedisEmbeddingCacheITCase. */
class RedisEmbeddingCacheTest {

    private static final float[] V = {0.25f, -1.5f, 3.0e-7f, Float.MIN_VALUE};

    @Test
    void deadRedisIsAMissAndTheBreakerStopsCallingIt() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (RedisLink link = new RedisLink("test", "redis://127.0.0.1:" + closedPort, Duration.ofMillis(100))) {
            RedisEmbeddingCache c = new RedisEmbeddingCache(link, "m1", V.length, Duration.ofMinutes(5));
            var key = new EmbeddingCache.Key("t", "x");
            for (int i = 0; i < 3; i++) {
                assertThat(c.getAll(List.of(key))).isEmpty();
                c.putAll(Map.of(key, V));
            }
            assertThat(link.breakerState()).isEqualTo(CircuitBreaker.State.OPEN);
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                assertThat(c.getAll(List.of(key))).isEmpty();
            }
            assertThat((System.nanoTime() - t0) / 1_000_000).as("1000 lookups while open, ms").isLessThan(1_000);
        }
    }
}
