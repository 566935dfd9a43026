package dev.embedstream.common.validation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** The field rules shared by documents and queries. */
final class Fields {

    static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private Fields() {}

    /** Decodes strictly: a payload that is not UTF-8 is rejected, never silently repaired. */
    static String utf8(byte[] payload) throws InvalidInputException {
        if (payload == null) {
            throw new InvalidInputException(
                    "empty_record", "record has no value (a tombstone?); send a JSON object");
        }
        return strictUtf8(payload, "value");
    }

    /** A record key as UTF-8 text; keys are identifiers, so invalid UTF-8 is rejected. */
    static String utf8Key(byte[] key) throws InvalidInputException {
        return strictUtf8(key, "key");
    }

    private static String strictUtf8(byte[] bytes, String what) throws InvalidInputException {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException("invalid_utf8", what + " is not valid UTF-8 text");
        }
    }

    static ObjectNode object(String text) throws InvalidInputException {
        JsonNode node;
        try {
            node = Json.parse(text);
        } catch (JsonProcessingException e) {
            throw new InvalidInputException("invalid_json", "value is not valid JSON: " + e.getOriginalMessage());
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException(
                    "not_an_object",
                    "value must be a JSON object, got " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase()));
        }
        return (ObjectNode) node;
    }

    /** A required string field; absent, null or non-string values are rejected. */
    static String requiredString(ObjectNode obj, String field) throws InvalidInputException {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) {
            throw new InvalidInputException("missing_field", "field '" + field + "' is required");
        }
        if (!n.isTextual()) {
            throw new InvalidInputException(
                    "wrong_type", "field '" + field + "' must be a string, got " + typeOf(n));
        }
        return unicode(n.textValue(), field);
    }

    /**
     * A JSON string may spell an unpaired surrogate as an escape ({@code "\ud800"}) inside valid
     * UTF-8: such a string has no UTF-8 form, so the tokenizer, Milvus and Kafka would each
     * repair it differently (and two doc_ids could become one). Rejected like invalid UTF-8.
     */
    static String unicode(String s, String field) throws InvalidInputException {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidInputException("invalid_utf8", "'" + field + "' holds an unpaired surrogate ("
                        + String.format("\\u%04x", (int) c) + " at char " + i + "), which has no UTF-8 form");
            }
        }
        return s;
    }

    static String optionalString(ObjectNode obj, String field) throws InvalidInputException {
        JsonNode n = obj.get(field);
        return n == null || n.isNull() ? null : requiredString(obj, field);
    }

    /** An identifier (doc_id, request_id): 1..maxBytes of UTF-8 without control characters. */
    static String identifier(ObjectNode obj, String field, int maxBytes, String code) throws InvalidInputException {
        String id = requiredString(obj, field);
        checkIdentifier(id, field, maxBytes, code);
        return id;
    }

    static void checkIdentifier(String id, String field, int maxBytes, String code) throws InvalidInputException {
        long bytes = Utf8.length(id);
        if (bytes == 0 || bytes > maxBytes) {
            throw new InvalidInputException(
                    code, "'" + field + "' must be 1.." + maxBytes + " bytes of UTF-8, got " + bytes);
        }
        if (id.chars().anyMatch(Character::isISOControl)) {
            throw new InvalidInputException(code, "'" + field + "' must not contain control characters");
        }
    }

    static String tenant(ObjectNode obj) throws InvalidInputException {
        String tenant = optionalString(obj, "tenant");
        if (tenant == null) {
            return Defaults.TENANT;
        }
        if (!NAME.matcher(tenant).matches()) {
            throw new InvalidInputException(
                    "invalid_tenant", "'tenant' must match [A-Za-z0-9_.-]{1,64}, got '" + abbreviate(tenant) + "'");
        }
        return tenant;
    }

    /** Non-blank text within the byte limit. */
    static String text(ObjectNode obj, int maxBytes) throws InvalidInputException {
        String text = requiredString(obj, "text");
        if (text.isBlank()) {
            throw new InvalidInputException("empty_text", "'text' is empty or blank");
        }
        long bytes = Utf8.length(text);
        if (bytes > maxBytes) {
            throw new InvalidInputException(
                    "text_too_large", "'text' is " + bytes + " bytes; the limit (limits.max-text-bytes) is " + maxBytes);
        }
        return text;
    }

    static void checkName(String name, String code, String what) throws InvalidInputException {
        if (!NAME.matcher(name).matches()) {
            throw new InvalidInputException(
                    code, what + " '" + abbreviate(name) + "' must match [A-Za-z0-9_.-]{1,64}");
        }
    }

    /** A JSON scalar as String, Long, Double or Boolean; null for anything else. */
    static Object scalar(JsonNode n, String field) throws InvalidInputException {
        if (n.isTextual()) {
            return unicode(n.textValue(), field);
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            return n.longValue();
        }
        if (n.isNumber() && Double.isFinite(n.doubleValue())) {
            return n.doubleValue();
        }
        return null;
    }

    /** A flat object of scalars (metadata). */
    static Map<String, Object> flatObject(ObjectNode obj, String field) throws InvalidInputException {
        JsonNode n = obj.get(field);
        Map<String, Object> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw new InvalidInputException(
                    "invalid_metadata", "'" + field + "' must be an object of scalars, got " + typeOf(n));
        }
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            checkName(e.getKey(), "invalid_metadata", "metadata key");
            Object v = scalar(e.getValue(), field + "." + e.getKey());
            if (v == null) {
                throw new InvalidInputException(
                        "invalid_metadata",
                        "metadata '" + e.getKey() + "' must be a string, number or boolean, got " + typeOf(e.getValue()));
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    static String typeOf(JsonNode n) {
        return n.getNodeType().name().toLowerCase();
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
