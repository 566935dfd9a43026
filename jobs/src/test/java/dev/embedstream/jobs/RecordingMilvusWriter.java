package dev.embedstream.jobs;

import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.jobs.operators.MilvusSinkClient;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The Milvus sink's client for tests of the whole graph without Milvus: it records every upserted
 * row and every delete, from every subtask of this JVM, and refuses nothing. What the real client
 * does with them is proven against Milvus Lite (MilvusSinkWriterITCase, MilvusStoreITCase).
 */
public final class RecordingMilvusWriter implements MilvusSinkClient.Factory {

    /** A delete of {@code tenant}'s documents' chunks from {@code fromIndex} on. */
    public record Delete(String tenant, List<String> docIds, int fromIndex) {}

    private record Calls(ConcurrentLinkedQueue<ChunkRow> upserts, ConcurrentLinkedQueue<Delete> deletes) {}

    private static final Map<String, Calls> CALLS = new ConcurrentHashMap<>();

    private final String id = UUID.randomUUID().toString();

    public RecordingMilvusWriter() {
        CALLS.put(id, new Calls(new ConcurrentLinkedQueue<>(), new ConcurrentLinkedQueue<>()));
    }

    public List<ChunkRow> upserts() {
        return List.copyOf(CALLS.get(id).upserts());
    }

    public List<Delete> deletes() {
        return List.copyOf(CALLS.get(id).deletes());
    }

    @Override
    public MilvusSinkClient open(MilvusSettings settings) {
        Calls calls = CALLS.get(id);
        return new MilvusSinkClient() {
            @Override
            public Optional<MilvusStore.CollectionFacts> describe() {
                return Optional.empty(); // no collection yet: the writer creates it
            }

            @Override
            public void ensureCollection(int dimension) {}

            @Override
            public void upsert(Collection<ChunkRow> rows) {
                calls.upserts().addAll(rows);
            }

            @Override
            public void deleteChunks(String tenant, Collection<String> docIds, int fromIndex) {
                calls.deletes().add(new Delete(tenant, List.copyOf(docIds), fromIndex));
            }

            @Override
            public void seal() {}

            @Override
            public void close() {}
        };
    }
}
