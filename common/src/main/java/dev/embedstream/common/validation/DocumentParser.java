package dev.embedstream.common.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import java.util.Map;
import java.util.TreeMap;

/** Turns a raw {@code embedstream.documents} value into a {@link DocumentEvent}, or says why not. */
public final class DocumentParser {

    public static final int MAX_DOC_ID_BYTES = 512;

    private final DocumentLimits limits;

    public DocumentParser(DocumentLimits limits) {
        this.limits = limits;
    }

    public DocumentEvent parse(byte[] value) throws InvalidInputException {
        ObjectNode obj = Fields.object(Fields.utf8(value));
        String docId = Fields.identifier(obj, "doc_id", MAX_DOC_ID_BYTES, "invalid_doc_id");
        Op op = op(obj);
        String tenant = Fields.tenant(obj);
        if (op == Op.DELETE) {
            return new DocumentEvent(docId, op, null, tenant, Map.of());
        }
        String text = Fields.text(obj, limits.maxTextBytes());
        return new DocumentEvent(docId, op, text, tenant, metadata(obj));
    }

    /**
     * A tombstone (null value) on the compacted documents topic deletes the document its key
     * names: {@code <tenant>:<doc_id>}, or a bare doc_id of the default tenant. A tenant never
     * contains ':', so the first ':' ends it when what precedes it is a valid tenant.
     */
    public DocumentEvent parseTombstone(byte[] key) throws InvalidInputException {
        if (key == null) {
            throw new InvalidInputException(
                    "empty_record", "record has neither key nor value; a tombstone must be keyed <tenant>:<doc_id>");
        }
        String k = Fields.utf8Key(key);
        int colon = k.indexOf(':');
        String tenant = Defaults.TENANT;
        String docId = k;
        if (colon > 0 && Fields.NAME.matcher(k.substring(0, colon)).matches()) {
            tenant = k.substring(0, colon);
            docId = k.substring(colon + 1);
        }
        Fields.checkIdentifier(docId, "doc_id", MAX_DOC_ID_BYTES, "invalid_doc_id");
        return new DocumentEvent(docId, Op.DELETE, null, tenant, Map.of());
    }

    /** Flat scalars within the limits; a tree map, so equal metadata serializes (and hashes) equally. */
    private Map<String, Object> metadata(ObjectNode obj) throws InvalidInputException {
        Map<String, Object> metadata = new TreeMap<>(Fields.flatObject(obj, "metadata"));
        if (metadata.size() > limits.maxMetadataKeys()) {
            throw new InvalidInputException("metadata_too_large", "metadata has " + metadata.size()
                    + " keys; the limit (limits.max-metadata-keys) is " + limits.maxMetadataKeys());
        }
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            if (e.getValue() instanceof String v && Utf8.length(v) > limits.maxMetadataValueBytes()) {
                throw new InvalidInputException("metadata_too_large", "metadata '" + e.getKey() + "' is "
                        + Utf8.length(v) + " bytes; the limit (limits.max-metadata-value-bytes) is "
                        + limits.maxMetadataValueBytes());
            }
        }
        long bytes = Utf8.length(Json.write(metadata));
        if (bytes > limits.maxMetadataBytes()) {
            throw new InvalidInputException("metadata_too_large", "metadata is " + bytes
                    + " bytes as JSON; the limit (limits.max-metadata-bytes) is " + limits.maxMetadataBytes());
        }
        return metadata;
    }

    private static Op op(ObjectNode obj) throws InvalidInputException {
        JsonNode n = obj.get("op");
        if (n == null || n.isNull()) {
            return Op.UPSERT;
        }
        if (n.isTextual()) {
            for (Op op : Op.values()) {
                if (op.wireName().equals(n.textValue())) {
                    return op;
                }
            }
        }
        throw new InvalidInputException(
                "unknown_op", "'op' must be \"upsert\" or \"delete\", got " + Fields.abbreviate(n.toString()));
    }
}
