package dev.embedstream.common.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Cuts a serialized {@link Response} until its UTF-8 JSON fits a byte budget, so that no answer
 * can be refused by the Kafka producer ({@code max.request.size}) and restart the job.
 *
 * <p>The cut is deterministic and goes from the least to the most visible loss: hit texts (the
 * largest first, to one common length); when that cannot make room, texts and metadata string
 * values together (the largest first, to one common length); then all metadata; then hits from
 * the end (the worst first). A cut response says {@code "truncated": true}.
 * If even a response without hits does not fit, the answer becomes a small {@code error} /
 * {@code response_too_large}, whose size is bounded by construction (its request id is cut to
 * {@link #MAX_FALLBACK_REQUEST_ID_BYTES} of JSON), so the result fits any budget of at least
 * {@link #MIN_BYTES} whatever the input. Every step is measured on the real serialization: the
 * routine never returns JSON it has not seen fit.
 */
public final class ResponseBudget {

    /** The least budget: the fallback answer (request id of at most 1 KiB of JSON) fits it with room. */
    public static final int MIN_BYTES = 4 * 1024;
    /** The most budget: a response plus its key and record overhead stays under Kafka's 1 MiB default. */
    public static final int MAX_BYTES = 900 * 1024;
    /** Error messages are for people: a few sentences, never a dump. */
    public static final int MAX_ERROR_MESSAGE_BYTES = 1024;
    static final int MAX_FALLBACK_REQUEST_ID_BYTES = 1024;
    public static final String TOO_LARGE = "response_too_large";

    private ResponseBudget() {}

    /** Throws unless {@code maxBytes} is a budget {@link #fit} can always meet. */
    public static int checkBudget(long maxBytes, String option) {
        if (maxBytes < MIN_BYTES || maxBytes > MAX_BYTES) {
            throw new IllegalArgumentException(option + " must be in [" + MIN_BYTES / 1024 + " KiB, "
                    + MAX_BYTES / 1024 + " KiB], got " + maxBytes + " bytes");
        }
        return (int) maxBytes;
    }

    /** The response JSON itself when it fits {@code maxBytes} of UTF-8, else a cut version that does. */
    public static String fit(String json, int maxBytes) {
        checkBudget(maxBytes, "the response budget");
        if (json.length() <= maxBytes / 3 || Utf8.length(json) <= maxBytes) {
            return json;
        }
        JsonNode parsed;
        try {
            parsed = Json.parse(json);
        } catch (Exception e) {
            parsed = null;
        }
        if (!(parsed instanceof ObjectNode root)) {
            return fallback(requestIdOf(json), maxBytes);
        }
        root.put("truncated", true);
        if (root.get("error") instanceof ObjectNode error && error.get("message") != null && error.get("message").isTextual()) {
            error.put("message", Utf8.jsonPrefix(error.get("message").textValue(), MAX_ERROR_MESSAGE_BYTES));
        }
        String out = Json.write(root);
        if (Utf8.length(out) <= maxBytes) {
            return out;
        }
        List<ObjectNode> hits = new ArrayList<>();
        if (root.get("hits") instanceof ArrayNode array) {
            array.forEach(h -> {
                if (h instanceof ObjectNode o) {
                    hits.add(o);
                }
            });
        }
        List<Slot> texts = new ArrayList<>();
        for (ObjectNode hit : hits) {
            if (hit.get("text") != null && hit.get("text").isTextual()) {
                texts.add(new Slot(hit, "text"));
            }
        }
        if ((out = waterFill(root, texts, maxBytes)) != null) {
            return out;
        }
        // Texts alone cannot make room: metadata string values join them under one level, so
        // a text is never emptied while a larger metadata value is kept whole.
        List<Slot> values = new ArrayList<>(texts);
        for (ObjectNode hit : hits) {
            if (hit.get("metadata") instanceof ObjectNode metadata) {
                for (Map.Entry<String, JsonNode> e : metadata.properties()) {
                    if (e.getValue().isTextual()) {
                        values.add(new Slot(metadata, e.getKey()));
                    }
                }
            }
        }
        if ((out = waterFill(root, values, maxBytes)) != null) {
            return out;
        }
        for (ObjectNode hit : hits) {
            if (hit.has("metadata")) {
                hit.putObject("metadata");
            }
        }
        out = Json.write(root);
        if (Utf8.length(out) <= maxBytes) {
            return out;
        }
        if (root.get("hits") instanceof ArrayNode array) {
            // Compact JSON: each element costs its own bytes plus one comma, so the count to drop
            // is known without re-serializing after each removal; the result is measured below.
            long total = Utf8.length(out);
            while (!array.isEmpty() && total > maxBytes) {
                total -= Utf8.length(Json.write(array.get(array.size() - 1))) + (array.size() > 1 ? 1 : 0);
                array.remove(array.size() - 1);
            }
            out = Json.write(root);
            if (Utf8.length(out) <= maxBytes) {
                return out;
            }
        }
        JsonNode requestId = root.get("request_id");
        return fallback(requestId != null && requestId.isTextual() ? requestId.textValue() : null, maxBytes);
    }

    /**
     * Cuts the strings in {@code slots} (from their originals), the longest first, to the largest common length that
     * makes the response fit; returns the JSON when it fits, else null with every slot empty.
     * Lengths are upper bounds of their JSON escaping, so the sum predicts at most the real size.
     */
    private static String waterFill(ObjectNode root, List<Slot> slots, int maxBytes) {
        if (slots.isEmpty()) {
            return null;
        }
        String[] full = new String[slots.size()];
        long[] cost = new long[slots.size()];
        for (int i = 0; i < full.length; i++) {
            full[i] = slots.get(i).original();
            cost[i] = Utf8.jsonLength(full[i]);
            slots.get(i).set("");
        }
        long room = maxBytes - Utf8.length(Json.write(root));
        if (room < 0) {
            return null;
        }
        long level = level(cost, room);
        for (int i = 0; i < full.length; i++) {
            slots.get(i).set(cost[i] <= level ? full[i] : Utf8.jsonPrefix(full[i], level));
        }
        String out = Json.write(root);
        if (Utf8.length(out) <= maxBytes) {
            return out;
        }
        slots.forEach(s -> s.set("")); // unreachable while jsonCost bounds the escaping; measured anyway
        return null;
    }

    /** The largest L with sum(min(cost_i, L)) <= room: strings longer than L are cut to L. */
    static long level(long[] cost, long room) {
        long[] sorted = cost.clone();
        Arrays.sort(sorted);
        long below = 0; // sum of the strings that stay whole
        for (int i = 0; i < sorted.length; i++) {
            int cut = sorted.length - i; // strings at or above sorted[i] would be cut to L
            if (below + sorted[i] * cut > room) {
                return (room - below) / cut;
            }
            below += sorted[i];
        }
        return Long.MAX_VALUE;
    }

    /**
     * The request id of a response that could not be read as a whole (nested deeper than the
     * codec allows): it is the first field, so a streaming read finds it before any hit.
     */
    private static String requestIdOf(String json) {
        try (JsonParser p = Json.mapper().getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if ("request_id".equals(field)) {
                    return value == JsonToken.VALUE_STRING ? p.getText() : null;
                }
                p.skipChildren();
            }
            return null;
        } catch (Exception e) {
            return null;
        }
    }

    /** The answer of last resort: at most about 1.2 KiB whatever the input, so under {@link #MIN_BYTES}. */
    static String fallback(String requestId, int maxBytes) {
        ObjectNode root = Json.mapper().createObjectNode();
        if (requestId != null) {
            root.put("request_id", Utf8.jsonPrefix(requestId, MAX_FALLBACK_REQUEST_ID_BYTES));
        }
        root.put("status", Response.ERROR);
        ObjectNode error = root.putObject("error");
        error.put("code", TOO_LARGE);
        error.put("message", "the answer could not be cut to fit the response budget (response.max-bytes, "
                + maxBytes + " bytes); ask for fewer hits");
        root.put("truncated", true);
        return Json.write(root);
    }

    /** A string field of a JSON object, replaced in place; {@code original} is its value before any cut. */
    private record Slot(ObjectNode owner, String field, String original) {
        Slot(ObjectNode owner, String field) {
            this(owner, field, owner.get(field).textValue());
        }

        void set(String value) {
            owner.put(field, value);
        }
    }
}
