package dev.embedstream.common.milvus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.testing.TestServers;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
import io.milvus.v2.service.collection.request.AddFieldReq;
import io.milvus.v2.service.collection.request.CreateCollectionReq;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against the real Milvus Lite server started by scripts/test.sh. */
class MilvusStoreITCase {

    private static MilvusStore store;

    @BeforeAll
    static void connect() {
        String collection = "store_test_" + UUID.randomUUID().toString().replace("-", "");
        store = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, collection, 10_000, 10_000));
        store.ensureCollection(4);
    }

    @AfterAll
    static void close() {
        store.close();
    }

    private static ChunkRow row(String doc, int idx, String tenant, String lang, float... v) {
        return new ChunkRow(doc, idx, tenant, doc + " chunk " + idx, "h", "{\"lang\":\"" + lang + "\"}", v);
    }

    @Test
    void upsertIsIdempotentByChunkId() {
        store.upsert(List.of(row("idem", 0, "t", "en", 1, 0, 0, 0)));
        store.upsert(List.of(row("idem", 0, "t", "en", 1, 0, 0, 0)));
        assertThat(store.count("doc_id == \"idem\"")).isEqualTo(1);
    }

    @Test
    void searchReturnsOnlyTheQueryTenantsDocumentsBestChunkFirst() {
        store.upsert(List.of(
                row("a", 0, "t1", "en", 1, 0, 0, 0),
                row("a", 1, "t1", "en", 0.9f, 0.1f, 0, 0),
                row("b", 0, "t1", "de", 0, 1, 0, 0),
                row("c", 0, "t2", "en", 1, 0, 0, 0)));
        var hits = store.search(new float[] {1, 0, 0, 0}, "t1", Map.of(), 5);
        assertThat(hits).extracting("docId").containsExactly("a", "b");
        assertThat(hits.get(0).chunk()).isEqualTo(0);
        assertThat(hits.get(0).metadata()).containsEntry("lang", "en");
        var filtered = store.search(new float[] {1, 0, 0, 0}, "t1", Map.of("lang", List.of("de")), 5);
        assertThat(filtered).extracting("docId").containsExactly("b");
    }

    @Test
    void deleteFromIndexRemovesOnlyStaleChunks() {
        store.upsert(List.of(row("s", 0, "t", "en", 0, 0, 1, 0), row("s", 1, "t", "en", 0, 0, 1, 0),
                row("s", 2, "t", "en", 0, 0, 1, 0)));
        store.deleteChunks("t", List.of("s"), 1);
        assertThat(store.query("doc_id == \"s\"", List.of("chunk_index")))
                .extracting(r -> ((Number) r.get("chunk_index")).intValue()).containsExactly(0);
        store.deleteChunks("t", List.of("s"), 0);
        assertThat(store.count("doc_id == \"s\"")).isZero();
    }

    @Test
    void aCollectionThisVersionCreatesIsStampedWithItsIdScheme() {
        assertThat(store.describe()).hasValueSatisfying(f -> {
            assertThat(f.idScheme()).isEqualTo(ChunkRow.ID_SCHEME);
            assertThat(f.dimension()).isEqualTo(4);
        });
        store.requireCurrentIdScheme();
    }

    @Test
    void anUnstampedCollectionIsRefusedWithTheWayToMigrate() {
        String name = "store_old_" + UUID.randomUUID().toString().replace("-", "");
        MilvusClientV2 raw = new MilvusClientV2(ConnectConfig.builder().uri(TestServers.milvusUri()).build());
        try {
            CreateCollectionReq.CollectionSchema schema = raw.createSchema();
            schema.addField(AddFieldReq.builder().fieldName("chunk_id").dataType(DataType.VarChar).maxLength(600)
                    .isPrimaryKey(true).autoID(false).build());
            schema.addField(AddFieldReq.builder().fieldName("vector").dataType(DataType.FloatVector).dimension(4).build());
            raw.createCollection(CreateCollectionReq.builder().collectionName(name).collectionSchema(schema)
                    .indexParams(List.of(IndexParam.builder().fieldName("vector").indexType(IndexParam.IndexType.AUTOINDEX)
                            .metricType(IndexParam.MetricType.COSINE).build())).build());
        } finally {
            try {
                raw.close(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try (MilvusStore old = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, name, 10_000, 10_000))) {
            assertThat(old.describe()).hasValueSatisfying(f -> assertThat(f.currentIdScheme()).isFalse());
            assertThatThrownBy(old::requireCurrentIdScheme).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'" + name + "'")
                    .hasMessageContaining(MilvusStore.UNSTAMPED_ID_SCHEME)
                    .hasMessageContaining(ChunkRow.ID_SCHEME)
                    .hasMessageContaining("set milvus.collection to a new name and replay the documents topic from the"
                            + " earliest offset");
        }
    }
}
