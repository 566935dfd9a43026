package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.testing.TestServers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The two levels together, L2 against the real redis-server of scripts/test.sh; L1 alone: EmbeddingCacheTest. */
class EmbeddingCacheITCase {

    private static final float[] V = {0.5f, -0.25f, 1e-9f};

    @Test
    void redisHitsAreCopiedIntoTheInProcessLevel() {
        String fp = "fp-" + UUID.randomUUID();
        var key = EmbeddingCache.Key.of("t", "from another TaskManager " + UUID.randomUUID());
        try (RedisLink link = new RedisLink("test", TestServers.redisUri(), Duration.ofMillis(500))) {
            new RedisEmbeddingCache(link, fp, V.length, Duration.ofMinutes(5)).putAll(Map.of(key, V));
            EmbeddingCache c = new EmbeddingCache(fp, 1 << 20, new RedisEmbeddingCache(link, fp, V.length, Duration.ofMinutes(5)));
            assertThat(c.getL1(key)).as("not in this JVM's L1 yet").isNull();
            EmbeddingCache.Found first = c.getAll(List.of(key));
            assertThat(first.l2Hits()).isEqualTo(1);
            assertThat(first.vectors().get(key)).containsExactly(V);
            assertThat(c.getL1(key)).containsExactly(V);
            assertThat(c.getAll(List.of(key)).l1Hits()).isEqualTo(1);
        }
    }
}
