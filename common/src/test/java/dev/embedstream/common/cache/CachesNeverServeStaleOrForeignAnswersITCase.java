package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.testing.RedisProcess;
import dev.embedstream.common.testing.TestServers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What Redis holds is not trusted, and losing it never brings an old answer back: garbage is a
 * counted miss, a flushed or evicted epoch comes back as one never used before, L1 expires (the
 * semantic cache too: SemanticCacheTest), and no
 * key of one tenant is another's. Against real redis-server processes (a private one where the
 * test flushes it).
 */
class CachesNeverServeStaleOrForeignAnswersITCase {

    private static final List<Hit> ANSWER = List.of(new Hit("doc-1", 0, 0.83, "rotate logs", Map.of("lang", "en")));
    private static final int DIM = 4;
    private static final float[] V = {0.5f, -0.5f, 0.5f, -0.5f};

    private static RedisLink link(String uri) {
        return new RedisLink("test", uri, Duration.ofSeconds(1));
    }

    private static String collection() {
        return "c" + UUID.randomUUID().toString().replace("-", "");
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void set(RedisLink link, String key, byte[] value) {
        assertThat(link.call("test set", r -> r.set(utf8(key), value))).contains("OK");
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    @Test
    void garbageInRedisIsAMiss() {
        String fp = "fp-" + UUID.randomUUID();
        try (RedisLink link = link(TestServers.redisUri())) {
            // Embeddings: wrong length, NaN, infinity, not a whole float: each a miss, counted; the good one a hit.
            RedisEmbeddingCache l2 = new RedisEmbeddingCache(link, fp, DIM, Duration.ofMinutes(5));
            AtomicInteger badVectors = new AtomicInteger();
            l2.onCorrupt(badVectors::addAndGet);
            Map<String, byte[]> garbage = Map.of(
                    "short", floats(0.5f, 0.5f, 0.5f),
                    "long", floats(0.5f, 0.5f, 0.5f, 0.5f, 0.5f),
                    "nan", floats(0.5f, Float.NaN, 0.5f, 0.5f),
                    "inf", floats(0.5f, 0.5f, Float.POSITIVE_INFINITY, 0.5f),
                    "odd", new byte[15],
                    "empty", new byte[0]);
            garbage.forEach((text, value) -> set(link, new String(l2.redisKey(new EmbeddingCache.Key("t", text)),
                    StandardCharsets.UTF_8), value));
            var good = new EmbeddingCache.Key("t", "good");
            l2.putAll(Map.of(good, V));
            List<EmbeddingCache.Key> keys = new java.util.ArrayList<>(garbage.keySet().stream()
                    .map(text -> new EmbeddingCache.Key("t", text)).toList());
            keys.add(good);
            EmbeddingCache twoLevels = new EmbeddingCache(fp, 1 << 20, l2);
            EmbeddingCache.Found found = twoLevels.getAll(keys);
            assertThat(found.vectors()).containsOnlyKeys(good);
            assertThat(badVectors).hasValue(garbage.size());
            assertThat(twoLevels.getL1(new EmbeddingCache.Key("t", "nan"))).as("garbage is not copied into L1").isNull();
            l2.putAll(Map.of(new EmbeddingCache.Key("t", "model made a NaN"), new float[] {Float.NaN, 0, 0, 0},
                    new EmbeddingCache.Key("t", "wrong dimension"), new float[] {1, 0}));
            assertThat(l2.getAll(List.of(new EmbeddingCache.Key("t", "model made a NaN"),
                    new EmbeddingCache.Key("t", "wrong dimension")))).as("never written").isEmpty();

            // Epochs: a counter or generation that is not a well-formed number is "epoch unknown", never an exception.
            String coll = collection();
            // Epochs are re-read on every call (no refresh interval), as after each interval in the job.
            RetrievalCache c = new RetrievalCache(link, coll, "fp", Duration.ofMinutes(5), Duration.ZERO, 0);
            AtomicInteger corrupt = new AtomicInteger();
            c.onCorrupt(corrupt::addAndGet);
            Epoch before = c.epochs(List.of("t")).get("t");
            String oldKey = c.key("t", before, "q", 3, "{}");
            c.put(oldKey, ANSWER);
            assertThat(c.getAll(List.of(oldKey))).containsKey(oldKey);
            Set<Epoch> seen = new HashSet<>(Set.of(before));
            for (String bad : List.of("not-a-number", "12abc", "-5", "1e5", "99999999999999999999999", "")) {
                set(link, "embedstream:epoch:" + coll + ":t", utf8(bad));
                Map<String, Epoch> epochs = c.epochs(List.of("t"));
                assertThat(epochs).as("counter '%s'", bad).doesNotContainKey("t");
                Epoch next = c.epochs(List.of("t")).get("t");
                assertThat(next).as("the read replaced '%s' by a fresh epoch", bad).isNotNull();
                assertThat(seen.add(next)).as("epoch %s after '%s' is new", next, bad).isTrue();
            }
            assertThat(corrupt).hasValue(6);
            set(link, "embedstream:epoch-gen:" + coll, utf8("0123"));
            assertThat(c.epochs(List.of("t", "u"))).as("a malformed generation hides every tenant").isEmpty();
            Epoch afterGeneration = c.epochs(List.of("t")).get("t");
            assertThat(afterGeneration.generation()).isNotEqualTo(before.generation()).matches("[0-9a-f]{16}");
            // A garbage counter does not stop the sink: the bump replaces it with a fresh start.
            set(link, "embedstream:epoch:" + coll + ":t", utf8("garbage"));
            assertThat(new CollectionEpochs(link, coll).bump(List.of("t"))).isTrue();
            Epoch bumped = c.epochs(List.of("t")).get("t");
            assertThat(bumped).isNotNull();
            assertThat(seen).doesNotContain(bumped);

            // Answers: not JSON, another version's shape, a hit without its document, another key's answer.
            corrupt.set(0);
            Epoch now = bumped;
            String k1 = c.key("t", now, "not json", 3, "{}");
            String k2 = c.key("t", now, "bare list", 3, "{}");
            String k3 = c.key("t", now, "no doc id", 3, "{}");
            String k4 = c.key("t", now, "copied", 3, "{}");
            String k5 = c.key("t", now, "good", 3, "{}");
            set(link, k1, utf8("{not json"));
            set(link, k2, utf8("[{\"doc_id\":\"d\",\"chunk\":0,\"score\":0.5}]"));
            set(link, k3, utf8("{\"key\":\"" + k3 + "\",\"hits\":[{\"chunk\":0,\"score\":0.5}]}"));
            c.put(k5, ANSWER);
            byte[] stored = link.call("test get", r -> r.get(utf8(k5))).orElseThrow();
            set(link, k4, stored);
            Map<String, List<Hit>> answers = c.getAll(List.of(k1, k2, k3, k4, k5));
            assertThat(answers).containsOnlyKeys(k5);
            assertThat(answers.get(k5)).isEqualTo(ANSWER);
            assertThat(corrupt).hasValue(4);
        }
    }

    @Test
    void anAnswerCachedBeforeRedisLostItsDataIsNeverServedAgain() throws Exception {
        String coll = collection();
        try (RedisProcess redis = RedisProcess.start(false);
                RedisLink link = link("redis://127.0.0.1:" + redis.port)) {
            RetrievalCache c = new RetrievalCache(link, coll, "fp", Duration.ofMinutes(5), Duration.ofMillis(100), 1 << 20);
            CollectionEpochs sink = new CollectionEpochs(link, coll);
            Set<Epoch> used = new HashSet<>();
            Epoch e0 = c.epochs(List.of("t")).get("t");
            used.add(e0);
            String cachedBefore = c.key("t", e0, "how to rotate logs", 3, "{}");
            c.put(cachedBefore, ANSWER);
            assertThat(c.getAll(List.of(cachedBefore))).containsKey(cachedBefore);
            // The ingest that makes that answer stale...
            assertThat(sink.bump(List.of("t"))).isTrue();
            Thread.sleep(150);
            used.add(c.epochs(List.of("t")).get("t"));
            // ...then Redis loses everything, in every way it can: all of it, the counter alone, the generation alone.
            List<Runnable> losses = List.of(
                    () -> link.call("flushall", r -> r.flushall()),
                    () -> link.call("evict counter", r -> r.del(sink.redisKey("t"))),
                    () -> link.call("evict generation", r -> r.del(sink.generationKey())),
                    () -> link.call("flushall", r -> r.flushall()));
            for (Runnable loss : losses) {
                loss.run();
                Thread.sleep(150); // past the epoch refresh interval
                Epoch now = c.epochs(List.of("t")).get("t");
                assertThat(now).isNotNull();
                assertThat(used.add(now)).as("epoch %s after a loss was used before: %s", now, used).isTrue();
                String key = c.key("t", now, "how to rotate logs", 3, "{}");
                assertThat(key).isNotEqualTo(cachedBefore);
                assertThat(c.getAll(List.of(key))).as("neither L1 nor Redis serves it").isEmpty();
                assertThat(new RetrievalCache(link, coll, "fp", Duration.ofMinutes(5), Duration.ofMillis(100), 0)
                        .getAll(List.of(key))).isEmpty();
                assertThat(sink.bump(List.of("t"))).isTrue();
                Thread.sleep(150);
                used.add(c.epochs(List.of("t")).get("t"));
            }
        }
    }

    @Test
    void retrievalL1Expires() throws Exception {
        try (RedisLink link = link(TestServers.redisUri())) {
            RetrievalCache c = new RetrievalCache(link, collection(), "fp", Duration.ofMillis(300), Duration.ofMinutes(1), 1 << 20);
            Epoch e = c.epochs(List.of("t")).get("t");
            String key = c.key("t", e, "q", 3, "{}");
            c.put(key, ANSWER);
            assertThat(c.getL1(key)).isEqualTo(ANSWER);
            Thread.sleep(600);
            assertThat(c.getL1(key)).as("L1 after the TTL").isNull();
            assertThat(c.getAll(List.of(key))).as("neither level after the TTL").isEmpty();
        }
    }

    @Test
    void anotherTenantNeverReadsAnEntry() {
        String fp = "fp-" + UUID.randomUUID();
        String text = "the same text for everyone";
        try (RedisLink link = link(TestServers.redisUri())) {
            // Embeddings, both levels.
            RedisEmbeddingCache l2 = new RedisEmbeddingCache(link, fp, DIM, Duration.ofMinutes(5));
            EmbeddingCache embeddings = new EmbeddingCache(fp, 1 << 20, l2);
            embeddings.putAll(Map.of(EmbeddingCache.Key.of("a", text), V));
            assertThat(embeddings.getL1(EmbeddingCache.Key.of("a", text))).isNotNull();
            assertThat(embeddings.getAll(List.of(EmbeddingCache.Key.of("b", text))).vectors()).isEmpty();
            assertThat(l2.getAll(List.of(EmbeddingCache.Key.of("b", text)))).isEmpty();
            assertThat(new String(l2.redisKey(EmbeddingCache.Key.of("b", text)), StandardCharsets.UTF_8)).contains(":b:");

            // Answers, both levels: same collection, text, top_k and filter.
            String coll = collection();
            RetrievalCache answers = new RetrievalCache(link, coll, fp, Duration.ofMinutes(5), Duration.ofSeconds(1), 1 << 20);
            Map<String, Epoch> epochs = answers.epochs(List.of("a", "b"));
            String keyA = answers.key("a", epochs.get("a"), text, 3, "{}");
            String keyB = answers.key("b", epochs.get("b"), text, 3, "{}");
            assertThat(keyA).startsWith("embedstream:ret:" + coll + ":a:");
            assertThat(keyB).startsWith("embedstream:ret:" + coll + ":b:");
            answers.put(keyA, ANSWER);
            assertThat(answers.getAll(List.of(keyA))).containsKey(keyA);
            assertThat(answers.getL1(keyB)).isNull();
            assertThat(answers.getAll(List.of(keyB))).isEmpty();
            // Even the same epoch token under another tenant is another key.
            assertThat(answers.key("b", epochs.get("a"), text, 3, "{}")).isNotEqualTo(keyA);

            // Semantic: the group holds the tenant.
            SemanticCache near = new SemanticCache(0.9, 1 << 20, Duration.ofMinutes(5));
            near.put(SemanticCache.groupOf(keyA), V, ANSWER);
            assertThat(near.find(SemanticCache.groupOf(keyA), V)).isEqualTo(ANSWER);
            assertThat(near.find(SemanticCache.groupOf(keyB), V)).isNull();
        }
    }
}
