package dev.embedstream.jobs.operators;

import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import java.io.Serializable;
import java.util.Collection;
import java.util.Optional;

/**
 * The Milvus calls the sink writer makes. Production talks to {@link MilvusStore}; a unit test
 * injects one that refuses chosen rows, to prove the writer isolates them.
 */
public interface MilvusSinkClient extends AutoCloseable {

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

    /** The production client: the Milvus collection of {@code settings}. */
    static MilvusSinkClient milvus(MilvusSettings settings) {
        MilvusStore store = new MilvusStore(settings);
        return new MilvusSinkClient() {
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
        };
    }
}
