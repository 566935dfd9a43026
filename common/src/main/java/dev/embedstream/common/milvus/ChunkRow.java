package dev.embedstream.common.milvus;

/** One row of the chunk collection (DESIGN section 3); {@code metadataJson} is a JSON object. */
public record ChunkRow(
        String docId, int chunkIndex, String tenant, String text, String contentHash, String metadataJson, float[] vector) {

    /**
     * The id scheme of every collection this version writes ({@code <tenant>:<doc_id>#<index>}),
     * stamped on the collection so a collection of another scheme is recognised.
     */
    public static final String ID_SCHEME = "tenant-doc-index-v2";

    /**
     * {@code <tenant>:<doc_id>#<index>}. Unique across tenants by construction: a tenant matches
     * {@code [A-Za-z0-9_.-]{1,64}} (no ':'), so the first ':' ends it, and the index follows the
     * last '#'. At most 64 + 1 + 512 + 1 + 10 bytes, within {@link MilvusStore#MAX_ID_LENGTH}.
     */
    public static String chunkId(String tenant, String docId, int index) {
        return tenant + ":" + docId + "#" + index;
    }

    public String chunkId() {
        return chunkId(tenant, docId, chunkIndex);
    }
}
