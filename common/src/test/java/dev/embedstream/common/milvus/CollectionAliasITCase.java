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

    private static MilvusStore store(String alias) {
        return new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, alias, 10_000, 10_000));
    }

    private static String alias() {
        return "alias_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    }

    @Test
    void theFirstServingJobCreatesItsStampedCollectionAndPointsTheAliasAtIt() {
        String alias = alias();
        VectorSpace a = space("model-a", "aa".repeat(32));
        try (MilvusStore store = store(alias)) {
            var route = new CollectionAlias(store, alias).bindServing(a, true);
            assertThat(route.collection()).isEqualTo(a.collectionName(alias)).startsWith(alias + "__model_a__");
            assertThat(store.aliasTarget(alias)).contains(route.collection());
            assertThat(store.spaceOf(route.collection())).contains(a);
            // Rows written through the collection are read through the alias.
            store.withCollection(route.collection()).upsert(List.of(new ChunkRow("d", 0, "t", "x", "h", "{}", new float[] {1, 0, 0, 0})));
            assertThat(store.count("chunk_index >= 0")).isEqualTo(1);
            // A second subtask, or a restart, binds to the same collection.
            assertThat(new CollectionAlias(store, alias).bindServing(a, true)).isEqualTo(route);
        }
    }

    @Test
    void aFreshServingJobOfAnotherSpaceIsRefusedWithBothFingerprintsButARestoredOneGoesOn() {
        String alias = alias();
        VectorSpace a = space("model-a", "aa".repeat(32));
        VectorSpace b = space("model-b", "bb".repeat(32));
        try (MilvusStore store = store(alias)) {
            CollectionAlias collections = new CollectionAlias(store, alias);
            collections.bindServing(a, true);
            assertThatThrownBy(() -> collections.bindServing(b, true))
                    .isInstanceOf(CollectionAlias.SpaceMismatchException.class)
                    .hasMessageContaining(a.collectionName(alias)).hasMessageContaining(a.hash()).hasMessageContaining(b.hash())
                    .hasMessageContaining("model model-b -> model-a".replace("model model-b -> model-a", "model model-a -> model-b"))
                    .hasMessageContaining("scripts/embedstream migrate --to-model model-b")
                    .hasMessageContaining("model.name=model-a");
            assertThat(store.aliasTarget(alias)).contains(a.collectionName(alias));
            // Restored from a checkpoint after a swap: writes its own collection, the alias stays.
            assertThat(collections.bindServing(b, false).collection()).isEqualTo(b.collectionName(alias));
            assertThat(store.aliasTarget(alias)).contains(a.collectionName(alias));
        }
    }

    @Test
    void aBackfillNeverTouchesTheAliasAndSwapAndRollbackMoveIt() {
        String alias = alias();
        VectorSpace a = space("model-a", "aa".repeat(32));
        VectorSpace b = space("model-b", "bb".repeat(32));
        try (MilvusStore store = store(alias)) {
            CollectionAlias collections = new CollectionAlias(store, alias);
            String ca = collections.bindServing(a, true).collection();
            String cb = collections.ensure(b).collection();
            assertThat(store.aliasTarget(alias)).contains(ca);
            assertThat(collections.swapTo(cb)).contains(ca);
            assertThat(collections.serving()).contains(new CollectionAlias.Route(cb, b));
            assertThat(collections.rollback()).isEqualTo(ca);
            assertThat(store.aliasTarget(alias)).contains(ca);
            assertThatThrownBy(collections::rollback).hasMessageContaining("records no previous collection");
        }
    }

    @Test
    void aPlainCollectionOfAnEarlierVersionIsRefusedUntilAdopted() {
        String alias = alias();
        VectorSpace a = space("model-a", "aa".repeat(32));
        try (MilvusStore legacy = store(alias)) {
            legacy.ensureCollection(4); // what the versions before aliases created
            legacy.upsert(List.of(new ChunkRow("d", 0, "t", "x", "h", "{}", new float[] {1, 0, 0, 0})));
            CollectionAlias collections = new CollectionAlias(legacy, alias);
            assertThatThrownBy(() -> collections.bindServing(a, true))
                    .isInstanceOf(CollectionAlias.SpaceMismatchException.class)
                    .hasMessageContaining("plain collection").hasMessageContaining("collections --adopt");
            var adopted = collections.adopt(a);
            assertThat(adopted.collection()).isEqualTo(a.collectionName(alias));
            assertThat(legacy.aliasTarget(alias)).contains(adopted.collection());
            assertThat(legacy.rowCount(adopted.collection())).isEqualTo(1);
            assertThat(collections.bindServing(a, true)).isEqualTo(adopted);
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
