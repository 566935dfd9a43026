package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.model.Hit;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The retrieval cache's keys, bounds and behaviour without Redis (a closed port: every call fails
 * at once). What it stores in a real redis-server: RetrievalCacheITCase.
 */
class RetrievalCacheTest {

    private static final Epoch E1 = new Epoch("0123456789abcdef", 1);
    private static final Epoch E2 = new Epoch("0123456789abcdef", 2);

    private static RedisLink deadRedis() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new RedisLink("test", "redis://127.0.0.1:" + s.getLocalPort(), Duration.ofMillis(100));
        }
    }

    private static RetrievalCache cache(RedisLink link, String collection) {
        return new RetrievalCache(link, collection, "fp", Duration.ofMinutes(5), Duration.ofMillis(500), 1 << 20);
    }

    @Test
    void keysSeparateTenantsEpochsTopKFiltersAndModels() throws Exception {
        try (RedisLink l = deadRedis()) {
            RetrievalCache c = cache(l, "c");
            String base = c.key("a", E1, "q", 3, "{}");
            assertThat(c.key("a", E1, "  q ", 3, "{}")).as("normalised text").isEqualTo(base);
            assertThat(List.of(c.key("b", E1, "q", 3, "{}"), c.key("a", E2, "q", 3, "{}"), c.key("a", E1, "q", 4, "{}"),
                    c.key("a", new Epoch("fedcba9876543210", 1), "q", 3, "{}"),
                    c.key("a", E1, "q", 3, "{\"kind\":[\"class\"]}"),
                    new RetrievalCache(l, "c", "other-model", Duration.ofMinutes(1), Duration.ofSeconds(1), 0).key("a", E1, "q", 3, "{}")))
                    .doesNotContain(base).doesNotHaveDuplicates();
        }
    }

    @Test
    void withoutRedisNoEpochIsKnownSoNothingIsServed() throws Exception {
        try (RedisLink dead = deadRedis()) {
            RetrievalCache c = cache(dead, "c");
            assertThat(c.epochs(List.of("t"))).isEmpty();
            assertThat(c.freshEpoch("t")).isNull();
            assertThat(new CollectionEpochs(dead, "c").bump(List.of("t"))).isFalse();
        }
    }

    @Test
    void heavyMetadataCountsAgainstTheInProcessBound() {
        Hit light = new Hit("d", 0, 0.5, "text", Map.of("k", "v"));
        Hit heavy = new Hit("d", 0, 0.5, "text", Map.of("k", "v".repeat(4000)));
        assertThat(RetrievalCache.weight("key", List.of(heavy)) - RetrievalCache.weight("key", List.of(light)))
                .isGreaterThanOrEqualTo(2 * 3999);
    }
}
