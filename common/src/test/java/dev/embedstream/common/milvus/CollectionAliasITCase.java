package dev.embedstream.common.milvus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.testing.TestServers;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The alias over one collection per vector space, against the real Milvus Lite server. */
class CollectionAliasITCase {

    private static VectorSpace space(String model, String sha) {
        return new VectorSpace(model, sha, "mean", 4, 256, 256, 32, VectorSpace.L2, ChunkRow.ID_SCHEME);
    }

    private static final VectorSpace A = space("model-a", "aa".repeat(32));
    private static final VectorSpace B = space("model-b", "bb".repeat(32));
    private static final ChunkRow ROW = new ChunkRow("d", 0, "t", "x", "h", "{}", new float[] {1, 0, 0, 0});

    /** A fresh alias of its own (tests share the server), its store and its collections. */
    private record Fixture(String alias, MilvusStore store, CollectionAlias collections) implements AutoCloseable {
        static Fixture fresh() {
            String alias = "alias_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            MilvusStore store = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, alias, 10_000, 10_000));
            return new Fixture(alias, store, new CollectionAlias(store, alias));
        }

        @Override
        public void close() {
            store.close();
        }
    }

    @Test
    void theFirstServingJobCreatesItsStampedCollectionAndPointsTheAliasAtIt() {
        try (Fixture f = Fixture.fresh()) {
            var route = f.collections().bindServing(A, true);
            assertThat(route.collection()).isEqualTo(A.collectionName(f.alias())).startsWith(f.alias() + "__model_a__");
            assertThat(f.store().aliasTarget(f.alias())).contains(route.collection());
            assertThat(f.store().spaceOf(route.collection())).contains(A);
            // Rows written through the collection are read through the alias.
            f.store().withCollection(route.collection()).upsert(List.of(ROW));
            assertThat(f.store().count("chunk_index >= 0")).isEqualTo(1);
            // A second subtask, or a restart, binds to the same collection.
            assertThat(new CollectionAlias(f.store(), f.alias()).bindServing(A, true)).isEqualTo(route);
        }
    }

    @Test
    void aFreshServingJobOfAnotherSpaceIsRefusedWithBothFingerprintsButARestoredOneGoesOn() {
        try (Fixture f = Fixture.fresh()) {
            String ca = A.collectionName(f.alias());
            f.collections().bindServing(A, true);
            assertThatThrownBy(() -> f.collections().bindServing(B, true))
                    .isInstanceOf(CollectionAlias.SpaceMismatchException.class)
                    .hasMessageContaining(ca).hasMessageContaining(A.hash()).hasMessageContaining(B.hash())
                    .hasMessageContaining("model model-a -> model-b")
                    .hasMessageContaining("scripts/embedstream migrate --to-model model-b")
                    .hasMessageContaining("model.name=model-a");
            assertThat(f.store().aliasTarget(f.alias())).contains(ca);
            // Restored from a checkpoint after a swap: writes its own collection, the alias stays.
            assertThat(f.collections().bindServing(B, false).collection()).isEqualTo(B.collectionName(f.alias()));
            assertThat(f.store().aliasTarget(f.alias())).contains(ca);
        }
    }

    @Test
    void aBackfillNeverTouchesTheAliasAndSwapAndRollbackMoveIt() {
        try (Fixture f = Fixture.fresh()) {
            CollectionAlias collections = f.collections();
            String ca = collections.bindServing(A, true).collection();
            String cb = collections.ensure(B).collection();
            assertThat(f.store().aliasTarget(f.alias())).contains(ca);
            assertThat(collections.swapTo(cb)).contains(ca);
            assertThat(collections.serving()).contains(new CollectionAlias.Route(cb, B));
            assertThat(collections.rollback()).isEqualTo(ca);
            assertThat(f.store().aliasTarget(f.alias())).contains(ca);
            assertThatThrownBy(collections::rollback).hasMessageContaining("records no previous collection");
        }
    }

    @Test
    void aPlainCollectionOfAnEarlierVersionIsRefusedUntilAdopted() {
        try (Fixture f = Fixture.fresh()) {
            MilvusStore legacy = f.store();
            legacy.ensureCollection(4); // what the versions before aliases created
            legacy.upsert(List.of(ROW));
            CollectionAlias collections = f.collections();
            assertThatThrownBy(() -> collections.bindServing(A, true))
                    .isInstanceOf(CollectionAlias.SpaceMismatchException.class)
                    .hasMessageContaining("plain collection").hasMessageContaining("collections --adopt");
            var adopted = collections.adopt(A);
            assertThat(adopted.collection()).isEqualTo(A.collectionName(f.alias()));
            assertThat(legacy.aliasTarget(f.alias())).contains(adopted.collection());
            assertThat(legacy.rowCount(adopted.collection())).isEqualTo(1);
            assertThat(collections.bindServing(A, true)).isEqualTo(adopted);
        }
    }

    @Test
    void aSpaceIsItsStampReadBackAndItsNameIsMilvusSafe() {
        VectorSpace odd = space("My Model/v2.onnx", "cc".repeat(32));
        assertThat(VectorSpace.parse(odd.json())).contains(odd);
        assertThat(odd.collectionName("chunks")).matches("chunks__my_model_v2_onnx__[0-9a-f]{8}");
        assertThat(VectorSpace.parse("{\"model\":1}")).isEmpty();
        assertThat(VectorSpace.parse("not json")).isEmpty();
        assertThat(space("m", "aa".repeat(32)).hash()).isNotEqualTo(space("m", "ab".repeat(32)).hash());
    }
}
