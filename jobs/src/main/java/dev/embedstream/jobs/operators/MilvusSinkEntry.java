package dev.embedstream.jobs.operators;

import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.DocumentChange;
import dev.embedstream.jobs.types.Origin;
import java.io.Serializable;

/**
 * One request entry of the Milvus sink: the upsert of one chunk (with its document's chunk count,
 * so stale chunks of a re-chunked document can be deleted), the delete of one document, or (only
 * in the writer state) a tenant whose collection epoch bump Redis has not confirmed yet.
 * {@code originTopic/Partition/Offset} say where the document event was read, for dead letters.
 */
public record MilvusSinkEntry(
        Kind kind,
        String tenant,
        String docId,
        int chunkIndex,
        int chunkCount,
        String text,
        String contentHash,
        String metadataJson,
        float[] vector,
        String originTopic,
        int originPartition,
        long originOffset)
        implements Serializable {

    public enum Kind {
        UPSERT,
        DELETE,
        EPOCH_BUMP
    }

    public static MilvusSinkEntry of(ChunkTask t) {
        Origin o = t.origin() == null ? new Origin("", -1, -1) : t.origin();
        if (t.op() == Op.DELETE) {
            return new MilvusSinkEntry(Kind.DELETE, t.tenant(), t.docId(), -1, 0, null, null, null, null,
                    o.topic(), o.partition(), o.offset());
        }
        return new MilvusSinkEntry(Kind.UPSERT, t.tenant(), t.docId(), t.chunkIndex(), t.chunkCount(), t.text(),
                t.contentHash(), t.metadataJson(), t.vector(), o.topic(), o.partition(), o.offset());
    }

    static MilvusSinkEntry epochBump(String tenant) {
        return new MilvusSinkEntry(Kind.EPOCH_BUMP, tenant, null, -1, 0, null, null, null, null, "", -1, -1);
    }

    /** The document's identity, {@code <tenant>:<doc_id>}: the unit of ordering and of rejection. */
    public String identity() {
        return DocumentChange.identity(tenant, docId);
    }

    public Origin origin() {
        return new Origin(originTopic, originPartition, originOffset);
    }

    ChunkRow row() {
        return new ChunkRow(docId, chunkIndex, tenant, text, contentHash, metadataJson, vector);
    }

    /**
     * What the entry costs in an insert request, roughly: UTF-16 upper bound of its strings plus
     * the vector. Deletes and bumps are a filter expression.
     */
    long estimatedBytes() {
        long strings = len(tenant) + len(docId) + len(text) + len(contentHash) + len(metadataJson);
        return 64 + 2 * strings + (vector == null ? 0 : 4L * vector.length);
    }

    private static long len(String s) {
        return s == null ? 0 : s.length();
    }
}
