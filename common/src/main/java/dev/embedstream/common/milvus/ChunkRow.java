package dev.embedstream.common.milvus;

/** One row of the chunk collection (DESIGN section 3); {@code metadataJson} is a JSON object. */
public record ChunkRow(
        String docId, int chunkIndex, String tenant, String text, String contentHash, String metadataJson, float[] vector) {

    public static String chunkId(String docId, int index) {
        return docId + "#" + index;
    }

    public String chunkId() {
        return chunkId(docId, chunkIndex);
    }
}
