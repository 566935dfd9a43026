package dev.embedstream.jobs.operators;

import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import java.io.Serializable;
import java.util.Collection;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * The Milvus calls the sink writer makes. Production talks to {@link MilvusStore}; a unit test
 * injects one that refuses chosen rows, to prove the writer isolates them.
 */
public interface MilvusSinkClient extends AutoCloseable {

    /**
     * Binds the client to the collection of {@code space} behind the alias it was opened on
     * ({@link CollectionAlias}): created and stamped if missing; for the serving job the alias is
     * created, or a fresh start refused when it serves another space. Returns the collection every
     * later call works on. A test client keeps writing where it was opened (null).
     */
    default String bind(VectorSpace space, boolean serving, boolean freshStart) {
        return null;
    }

    /** The collection's id scheme and dimension, or empty when it does not exist yet. */
    Optional<MilvusStore.CollectionFacts> describe();

    /** Creates the collection (stamped with the current id scheme) if it is missing, and loads it. */
    void ensureCollection(int dimension);

    void upsert(Collection<ChunkRow> rows);

    /** Deletes the chunks of {@code tenant}'s documents {@code docIds} with index >= {@code fromIndex}. */
    void deleteChunks(String tenant, Collection<String> docIds, int fromIndex);

    /** Seals the rows written so far into an indexed segment. */
    void seal();

    @Override
    void close();

    /** Builds the client inside the writer (on the task manager), never at graph-building time. */
    @FunctionalInterface
    interface Factory extends Serializable {
        MilvusSinkClient open(MilvusSettings settings);
    }

    /** The production client: the Milvus collection (or alias, until {@link #bind}) of {@code settings}. */
    static MilvusSinkClient milvus(MilvusSettings settings) {
        return new Store(new MilvusStore(settings));
    }

    /** {@link MilvusSinkClient} over a {@link MilvusStore}. */
    final class Store implements MilvusSinkClient {
        private MilvusStore store;

        private Store(MilvusStore store) {
            this.store = store;
        }

        @Override
        public String bind(VectorSpace space, boolean serving, boolean freshStart) {
            CollectionAlias alias = new CollectionAlias(store, store.collection());
            String collection = (serving ? alias.bindServing(space, freshStart) : alias.ensure(space)).collection();
            store = store.withCollection(collection);
            if (!store.hasKeywordIndex(collection)) { // said at start, once per sink subtask
                LoggerFactory.getLogger(MilvusSinkClient.class).warn("collection {} has no BM25 keyword index (made by an"
                        + " earlier version, with milvus.bm25.enabled=false, or on a Milvus without BM25 functions): it serves"
                        + " dense queries, and queries naming no mode are answered dense; hybrid and keyword queries get"
                        + " mode_unsupported. To add the index, migrate to a new collection (scripts/embedstream migrate)",
                        collection);
            }
            return collection;
        }

        @Override
        public Optional<MilvusStore.CollectionFacts> describe() {
            return store.describe();
        }

        @Override
        public void ensureCollection(int dimension) {
            store.ensureCollection(dimension);
        }

        @Override
        public void upsert(Collection<ChunkRow> rows) {
            store.upsert(rows);
        }

        @Override
        public void deleteChunks(String tenant, Collection<String> docIds, int fromIndex) {
            store.deleteChunks(tenant, docIds, fromIndex);
        }

        @Override
        public void seal() {
            store.seal();
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
