package dev.embedstream.common.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.testing.RedisProcess;
import dev.embedstream.common.testing.TestServers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Answers, epochs, Redis AUTH and TLS against real redis-server processes; keys and bounds: RetrievalCacheTest. */
class RetrievalCacheITCase {

    private static final List<Hit> ANSWER = List.of(
            new Hit("doc-1", 0, 0.83, "rotate logs with RotatingFileHandler", Map.of("lang", "en")),
            new Hit("doc-2", 2, 0.51, "ünïcode ✓", Map.of()));

    private static final Epoch E1 = new Epoch("0123456789abcdef", 1);

    private static RetrievalCache cache(RedisLink link, String collection, long refreshMs) {
        return new RetrievalCache(link, collection, "fp", Duration.ofMinutes(5), Duration.ofMillis(refreshMs), 1 << 20);
    }

    private static RedisLink link() {
        return new RedisLink("test", TestServers.redisUri(), Duration.ofMillis(500));
    }

    @Test
    void anAnswerStoredInRedisComesBackWhole() {
        String collection = "c" + UUID.randomUUID();
        try (RedisLink writer = link(); RedisLink reader = link()) {
            RetrievalCache w = cache(writer, collection, 500);
            String key = w.key("t", E1, "how to rotate logs", 3, "{}");
            w.put(key, ANSWER);
            // As another TaskManager would: no L1 entry, so the answer comes from Redis.
            RetrievalCache r = new RetrievalCache(reader, collection, "fp", Duration.ofMinutes(5), Duration.ofMillis(500), 0);
            assertThat(r.getL1(key)).isNull();
            assertThat(r.getAll(List.of(key))).containsEntry(key, ANSWER);
        }
    }

    @Test
    void aCommittedWriteMakesEveryOlderAnswerUnreachableWithinTheRefreshInterval() throws Exception {
        String collection = "c" + UUID.randomUUID();
        try (RedisLink queries = link(); RedisLink sink = link()) {
            RetrievalCache c = cache(queries, collection, 300);
            Epoch before = c.epochs(List.of("t")).get("t");
            assertThat(before).isNotNull();
            Epoch otherBefore = c.epochs(List.of("other-tenant")).get("other-tenant");
            String oldKey = c.key("t", before, "q", 3, "{}");
            c.put(oldKey, ANSWER);

            assertThat(new CollectionEpochs(sink, collection).bump(List.of("t"))).isTrue();
            assertThat(c.epochs(List.of("t")).get("t")).as("still trusted within the refresh interval").isEqualTo(before);
            Thread.sleep(400);
            Epoch after = c.epochs(List.of("t")).get("t");
            assertThat(after).isEqualTo(new Epoch(before.generation(), before.counter() + 1));
            String newKey = c.key("t", after, "q", 3, "{}");
            assertThat(newKey).isNotEqualTo(oldKey);
            assertThat(c.getAll(List.of(newKey))).isEmpty();
            assertThat(c.epochs(List.of("other-tenant")).get("other-tenant")).as("other tenants keep their epoch").isEqualTo(otherBefore);
        }
    }

    @Test
    void passwordFromTheUriAuthenticates() throws Exception {
        try (RedisProcess redis = RedisProcess.start(false, "--requirepass", "s3cret");
                RedisLink good = new RedisLink("test", "redis://:s3cret@127.0.0.1:" + redis.port, Duration.ofMillis(500));
                RedisLink bad = new RedisLink("test", "redis://:wrong@127.0.0.1:" + redis.port, Duration.ofMillis(500))) {
            assertThat(new CollectionEpochs(good, "c").bump(List.of("t"))).isTrue();
            assertThat(new CollectionEpochs(good, "c").read(List.of("t"))).hasValueSatisfying(m -> assertThat(m).containsKey("t"));
            assertThat(new CollectionEpochs(bad, "c").read(List.of("t"))).isEmpty();
        }
    }

    @Test
    void aRedissUriTalksTlsAndAPlainOneCannot(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Process cert = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString(),
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(cert.waitFor()).as("openssl made a test certificate").isZero();
        try (RedisProcess redis = RedisProcess.start(true, "--tls-cert-file", dir.resolve("cert.pem").toString(),
                "--tls-key-file", dir.resolve("key.pem").toString(), "--tls-ca-cert-file", dir.resolve("cert.pem").toString(),
                "--tls-auth-clients", "no");
                // A self-signed test certificate: peer verification off here; with a real CA the JVM trust store verifies it.
                RedisLink tls = new RedisLink("test", "rediss://127.0.0.1:" + redis.port + "?verifyPeer=NONE", Duration.ofSeconds(2));
                RedisLink plain = new RedisLink("test", "redis://127.0.0.1:" + redis.port, Duration.ofMillis(500))) {
            assertThat(new CollectionEpochs(tls, "c").bump(List.of("t"))).isTrue();
            assertThat(new CollectionEpochs(tls, "c").read(List.of("t"))).hasValueSatisfying(m -> assertThat(m).containsKey("t"));
            assertThat(new CollectionEpochs(plain, "c").read(List.of("t"))).isEmpty();
        }
    }
}
