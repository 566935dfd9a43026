package dev.embedstream.jobs.types;

import dev.embedstream.common.model.Op;

/**
 * A validated document event on its way through the job. Metadata travels as canonical JSON (keys
 * sorted) so Flink serializes it as a plain field; {@code contentHash} is the sha256 hex of the
 * text and {@code digest} the sha256 of text and metadata together, which dedup compares.
 */
public record DocumentChange(
        String docId, Op op, String tenant, String text, String metadataJson, String contentHash, String digest,
        Origin origin) {

    /** The document's identity and partitioning key: {@code <tenant>:<doc_id>} (a tenant has no ':'). */
    public String identity() {
        return identity(tenant, docId);
    }

    public static String identity(String tenant, String docId) {
        return tenant + ":" + docId;
    }
}
