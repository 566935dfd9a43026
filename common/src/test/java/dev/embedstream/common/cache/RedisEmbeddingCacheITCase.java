package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Against the real redis-server started by scripts/test.sh; without one: RedisEmbeddingCacheTest. */
class RedisEmbeddingCacheITCase {

    private static final float[] V = {0.25f, -1.5f, 3.0e-7f, Float.MIN_VALUE};

    private static RedisLink link(String uri, long timeoutMs) {
        return new RedisLink("test", uri, Duration.ofMillis(timeoutMs));
    }

    private static RedisEmbeddingCache cache(RedisLink link, String fingerprint) {
        return new RedisEmbeddingCache(link, fingerprint, V.length, Duration.ofMinutes(5));
    }

    @Test
    void storedVectorComesBackBitExact() {
        String text = "text " + UUID.randomUUID();
        try (RedisLink link = link(TestServers.redisUri(), 500)) {
            RedisEmbeddingCache c = cache(link, "m1");
            var key = new EmbeddingCache.Key("t", text);
            assertThat(c.getAll(List.of(key))).isEmpty();
            c.putAll(Map.of(key, V));
            assertThat(c.getAll(List.of(key))).containsKey(key);
            assertThat(c.getAll(List.of(key)).get(key)).containsExactly(V);
        }
    }

    @Test
    void keysSeparateTenantsAndModels() {
        String text = "shared " + UUID.randomUUID();
        try (RedisLink link = link(TestServers.redisUri(), 500)) {
            RedisEmbeddingCache m1 = cache(link, "m1");
            RedisEmbeddingCache m2 = cache(link, "m2");
            m1.putAll(Map.of(new EmbeddingCache.Key("a", text), V));
            assertThat(m1.getAll(List.of(new EmbeddingCache.Key("b", text)))).isEmpty();
            assertThat(m2.getAll(List.of(new EmbeddingCache.Key("a", text)))).isEmpty();
            assertThat(m1.getAll(List.of(new EmbeddingCache.Key("a", text)))).hasSize(1);
        }
    }

    @Test
    void entriesExpireAfterTheirTtl() throws Exception {
        var key = new EmbeddingCache.Key("t", "short-lived " + UUID.randomUUID());
        try (RedisLink link = link(TestServers.redisUri(), 500)) {
            RedisEmbeddingCache c = new RedisEmbeddingCache(link, "m1", V.length, Duration.ofSeconds(1));
            c.putAll(Map.of(key, V));
            assertThat(c.getAll(List.of(key))).hasSize(1);
            Thread.sleep(2_100);
            assertThat(c.getAll(List.of(key))).isEmpty();
        }
    }
}
