package dev.embedstream.common.validation;

import java.io.Serializable;

/**
 * Size limits of a document event, checked at parse time so that nothing oversized reaches the
 * model, Milvus (which refuses JSON fields over 64 KiB) or a dead letter. Past any of them the
 * event is a dead letter: {@code text_too_large} or {@code metadata_too_large}.
 *
 * @param maxTextBytes largest text, UTF-8 bytes
 * @param maxMetadataBytes largest metadata object, serialized as compact JSON (UTF-8 bytes)
 * @param maxMetadataKeys most keys in the metadata object
 * @param maxMetadataValueBytes longest metadata string value, UTF-8 bytes
 */
public record DocumentLimits(int maxTextBytes, int maxMetadataBytes, int maxMetadataKeys, int maxMetadataValueBytes)
        implements Serializable {

    public static final int DEFAULT_MAX_TEXT_BYTES = 512 * 1024;
    public static final int DEFAULT_MAX_METADATA_BYTES = 16 * 1024;
    public static final int DEFAULT_MAX_METADATA_KEYS = 64;
    public static final int DEFAULT_MAX_METADATA_VALUE_BYTES = 4 * 1024;
    /** Milvus' own limit on a JSON field; metadata must stay below it or every write of it is refused. */
    public static final int MILVUS_JSON_LIMIT = 64 * 1024;

    public static final DocumentLimits DEFAULTS = new DocumentLimits(
            DEFAULT_MAX_TEXT_BYTES, DEFAULT_MAX_METADATA_BYTES, DEFAULT_MAX_METADATA_KEYS, DEFAULT_MAX_METADATA_VALUE_BYTES);

    public DocumentLimits {
        if (maxTextBytes < 1 || maxMetadataKeys < 0 || maxMetadataValueBytes < 1) {
            throw new IllegalArgumentException("document limits must be positive");
        }
        if (maxMetadataBytes < 2 || maxMetadataBytes >= MILVUS_JSON_LIMIT) {
            throw new IllegalArgumentException(
                    "limits.max-metadata-bytes must be in [2, " + MILVUS_JSON_LIMIT + "): Milvus refuses larger JSON fields");
        }
    }
}
