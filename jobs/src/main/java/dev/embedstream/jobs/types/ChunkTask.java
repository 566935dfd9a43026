package dev.embedstream.jobs.types;

import dev.embedstream.common.model.Op;

/**
 * One chunk to embed and upsert, or (op DELETE, no text) the removal of a whole document. Deletes
 * travel in the same stream as upserts so a document's changes stay in arrival order.
 * {@code vector} is null until the batcher fills it; {@code origin} is where the document event
 * was read, for dead letters of later stages.
 */
public record ChunkTask(
        String docId,
        Op op,
        String tenant,
        int chunkIndex,
        int chunkCount,
        String text,
        int tokens,
        String contentHash,
        String metadataJson,
        float[] vector,
        Origin origin) {

    public static ChunkTask delete(String docId, String tenant, Origin origin) {
        return new ChunkTask(docId, Op.DELETE, tenant, -1, 0, null, 0, null, null, null, origin);
    }

    /** The document's identity: {@code <tenant>:<doc_id>}. */
    public String identity() {
        return DocumentChange.identity(tenant, docId);
    }

    public ChunkTask withVector(float[] v) {
        return new ChunkTask(docId, op, tenant, chunkIndex, chunkCount, text, tokens, contentHash, metadataJson, v, origin);
    }
}
