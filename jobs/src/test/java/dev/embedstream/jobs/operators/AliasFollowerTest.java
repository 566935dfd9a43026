package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.milvus.CollectionAlias.Route;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.VectorSpace;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The alias follower against a fake Milvus whose reads can be slowed down or made to fail. */
class AliasFollowerTest {

    private static final long REFRESH_MS = 100;
    private static final MilvusSettings MILVUS = new MilvusSettings("http://127.0.0.1:1", "", "chunks", 1000, 1000);
    private static final Route A = route("chunks__a", "model-a");
    private static final Route B = route("chunks__b", "model-b");

    private static Route route(String collection, String model) {
        return new Route(collection, new VectorSpace(model, "ab".repeat(32), "mean", 4, 256, 200, 20, VectorSpace.L2,
                "tenant-doc-chunk"));
    }

    /** A lookup answering {@code target} for the alias and the spaces of A and B. */
    static AliasFollower.Lookup lookup(Function<String, Optional<String>> target) {
        return new AliasFollower.Lookup() {
            @Override
            public Optional<String> aliasTarget(String alias) {
                return target.apply(alias);
            }

            @Override
            public Optional<VectorSpace> spaceOf(String collection) {
                return Optional.ofNullable(collection.equals(A.collection()) ? A.space()
                        : collection.equals(B.collection()) ? B.space() : null);
            }

            @Override
            public void close() {}
        };
    }

    /** A Milvus whose alias points at {@link #target}; a read sees the alias as it was when the read started. */
    private static final class SlowMilvus {
        volatile String target = A.collection();
        volatile long readMs;
        volatile boolean down;

        Optional<String> read(String alias) {
            if (down) {
                throw new IllegalStateException("UNAVAILABLE: connection refused");
            }
            String seen = target;
            sleep(readMs);
            return Optional.of(seen);
        }
    }

    @Test
    void aReadThatStartedBeforeTheSwapNeverMakesTheOldRouteKnownAfterIt() throws Exception {
        SlowMilvus milvus = new SlowMilvus();
        try (AliasFollower follower = new AliasFollower(A, MILVUS, REFRESH_MS, m -> lookup(milvus::read))) {
            assertThat(follower.knownFor(now())).isEqualTo(A);
            milvus.readMs = 600; // a loaded Milvus: every read now takes 6 refresh intervals
            Thread.sleep(2 * REFRESH_MS); // a read is under way, and it has seen A
            milvus.target = B.collection(); // the swap
            long swappedAt = System.currentTimeMillis();
            // Until the first read that started after the swap returns, nothing is known; never A.
            while (System.currentTimeMillis() - swappedAt < 2_000) {
                long sent = now();
                Route known = follower.knownFor(sent);
                if (sent - swappedAt > AliasFollower.FRESH_REFRESHES * REFRESH_MS) {
                    assertThat(known).as("route of a query sent %d ms after the swap", sent - swappedAt).isNotEqualTo(A);
                }
                Thread.sleep(10);
            }
            assertThat(follower.await(now(), 5_000)).isEqualTo(B);
        }
    }

    @Test
    void aQueryWaitsForAReadRecentEnoughForItInsteadOfGuessing() throws Exception {
        SlowMilvus milvus = new SlowMilvus();
        try (AliasFollower follower = new AliasFollower(A, MILVUS, REFRESH_MS, m -> lookup(milvus::read))) {
            milvus.readMs = 500; // slower than the freshness window: no read is ever recent on return
            milvus.target = B.collection();
            Thread.sleep(4 * REFRESH_MS); // the read before the slow-down is no longer recent
            long sent = now();
            assertThat(follower.knownFor(sent)).isNull();
            assertThat(follower.await(sent, 5_000)).isEqualTo(B);
            // A query sent before that read began is routed by it without another wait.
            assertThat(follower.knownFor(sent)).isEqualTo(B);
        }
    }

    @Test
    void anUnreachableMilvusGivesNoRouteAtOnceRatherThanTheJobsOwnCollection() throws Exception {
        SlowMilvus milvus = new SlowMilvus();
        milvus.down = true;
        try (AliasFollower follower = new AliasFollower(A, MILVUS, REFRESH_MS, m -> lookup(milvus::read))) {
            assertThat(follower.knownFor(now())).isNull();
            long asked = System.nanoTime();
            assertThat(follower.await(now(), 30_000)).isNull();
            assertThat((System.nanoTime() - asked) / 1_000_000).as("ms waited for a Milvus known to be down")
                    .isLessThan(10_000);
            milvus.down = false;
            Thread.sleep(3 * REFRESH_MS);
            assertThat(follower.await(now(), 5_000)).isEqualTo(A);
        }
    }

    @Test
    void anAliasThatDoesNotExistYetLeavesTheOwnRouteKnown() throws Exception {
        try (AliasFollower follower = new AliasFollower(A, MILVUS, REFRESH_MS, m -> lookup(alias -> Optional.empty()))) {
            assertThat(follower.knownFor(now())).isEqualTo(A);
        }
    }

    private static long now() {
        return System.currentTimeMillis();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
