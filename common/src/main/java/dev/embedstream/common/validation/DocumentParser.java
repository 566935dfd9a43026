package dev.embedstream.common.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import java.util.Map;

/** Turns a raw {@code embedstream.documents} value into a {@link DocumentEvent}, or says why not. */
public final class DocumentParser {

    public static final int MAX_DOC_ID_BYTES = 512;

    private final int maxTextBytes;

    public DocumentParser(int maxTextBytes) {
        this.maxTextBytes = maxTextBytes;
    }

    public DocumentEvent parse(byte[] value) throws InvalidInputException {
        ObjectNode obj = Fields.object(Fields.utf8(value));
        String docId = Fields.identifier(obj, "doc_id", MAX_DOC_ID_BYTES, "invalid_doc_id");
        Op op = op(obj);
        String tenant = Fields.tenant(obj);
        if (op == Op.DELETE) {
            return new DocumentEvent(docId, op, null, tenant, Map.of());
        }
        String text = Fields.text(obj, maxTextBytes);
        return new DocumentEvent(docId, op, text, tenant, Fields.flatObject(obj, "metadata"));
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
