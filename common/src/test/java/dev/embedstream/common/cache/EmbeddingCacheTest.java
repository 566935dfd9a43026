package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The in-process level (no Redis); both levels with a real redis-server: EmbeddingCacheITCase. */
class EmbeddingCacheTest {

    private static final float[] V = {0.5f, -0.25f, 1e-9f};

    private static String fingerprint() {
        return "fp-" + UUID.randomUUID();
    }

    @Test
    void inProcessLevelAnswersWithoutRedis() {
        EmbeddingCache c = new EmbeddingCache(fingerprint(), 1 << 20, null);
        var key = EmbeddingCache.Key.of("t", "hello world");
        assertThat(c.getL1(key)).isNull();
        c.putAll(Map.of(key, V));
        assertThat(c.getL1(key)).containsExactly(V);
        EmbeddingCache.Found f = c.getAll(List.of(key));
        assertThat(f.l1Hits()).isEqualTo(1);
        assertThat(f.l2Hits()).isZero();
    }

    @Test
    void textsThatDifferOnlyInWhitespaceShareAnEntry() {
        EmbeddingCache c = new EmbeddingCache(fingerprint(), 1 << 20, null);
        c.putAll(Map.of(EmbeddingCache.Key.of("t", "  rotate\tthe\n\nlogs "), V));
        assertThat(c.getL1(EmbeddingCache.Key.of("t", "rotate the logs"))).containsExactly(V);
        assertThat(c.getL1(EmbeddingCache.Key.of("t", "rotate the log"))).isNull();
    }

    @Test
    void tenantsAndModelsNeverShareAnEntry() {
        String fp = fingerprint();
        EmbeddingCache a = new EmbeddingCache(fp, 1 << 20, null);
        a.putAll(Map.of(EmbeddingCache.Key.of("tenant-a", "same text"), V));
        assertThat(a.getL1(EmbeddingCache.Key.of("tenant-b", "same text"))).isNull();
        assertThat(new EmbeddingCache(fingerprint(), 1 << 20, null).getL1(EmbeddingCache.Key.of("tenant-a", "same text"))).isNull();
    }

    @Test
    void inProcessLevelStaysWithinItsByteBound() {
        long bound = 256 * 1024;
        EmbeddingCache c = new EmbeddingCache(fingerprint(), bound, null);
        float[] big = new float[384];
        for (int i = 0; i < 2_000; i++) {
            c.putAll(Map.of(EmbeddingCache.Key.of("t", "text " + i), big));
        }
        assertThat(c.l1Bytes()).isPositive().isLessThanOrEqualTo(bound);
        assertThat(c.l1Entries()).as("entries of ~1.9 KB in 256 KB").isBetween(50L, 150L);
    }
}
