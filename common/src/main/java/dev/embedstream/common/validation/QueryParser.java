package dev.embedstream.common.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.model.Query;
import dev.embedstream.common.model.Retrieval;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Turns a raw {@code embedstream.queries} value into a {@link Query}, or says why not. */
public final class QueryParser {

    public static final int MAX_REQUEST_ID_BYTES = 256;
    public static final int MAX_TOP_K = 100;
    public static final int MAX_FILTER_FIELDS = 16;
    public static final int MAX_FILTER_VALUES = 100;

    private final int maxTextBytes;
    private final int defaultTopK;

    public QueryParser(int maxTextBytes, int defaultTopK) {
        this.maxTextBytes = maxTextBytes;
        this.defaultTopK = defaultTopK;
    }

    /**
     * Parses a query. When the value is bad but a request id can still be read (from the value,
     * else from the Kafka key), the exception carries it so the client gets an error response.
     */
    public Query parse(byte[] key, byte[] value) throws InvalidInputException {
        String requestId = null;
        String tenant = null;
        try {
            ObjectNode obj = Fields.object(Fields.utf8(value));
            requestId = Fields.identifier(obj, "request_id", MAX_REQUEST_ID_BYTES, "invalid_request_id");
            // Read first, so an error response to any later field names the tenant it belongs to.
            tenant = Fields.tenant(obj);
            String text = Fields.text(obj, maxTextBytes);
            int topK = topK(obj.get("top_k"));
            Map<String, Object> filter = filter(obj.get("filter"));
            Long deadline = optionalLong(obj, "deadline_ms", 0);
            Long partition = optionalLong(obj, "reply_partition", 0);
            Retrieval retrieval = retrieval(obj.get("mode"), obj.get("fusion"));
            return new Query(
                    requestId, text, topK, tenant, filter, deadline,
                    partition == null ? null : Math.toIntExact(Math.min(partition, Integer.MAX_VALUE)), retrieval);
        } catch (InvalidInputException e) {
            String id = requestId != null ? requestId : requestIdFromKey(key);
            throw id == null ? e : e.withQuery(id, tenant);
        }
    }

    private static String requestIdFromKey(byte[] key) {
        try {
            String id = Fields.utf8(key);
            Fields.checkIdentifier(id, "request_id", MAX_REQUEST_ID_BYTES, "invalid_request_id");
            return id;
        } catch (InvalidInputException e) {
            return null;
        }
    }

    private int topK(JsonNode n) throws InvalidInputException {
        if (n == null || n.isNull()) {
            return defaultTopK;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1 || n.intValue() > MAX_TOP_K) {
            throw new InvalidInputException(
                    "invalid_top_k", "'top_k' must be an integer from 1 to " + MAX_TOP_K + ", got " + Fields.abbreviate(n.toString()));
        }
        return n.intValue();
    }

    /** {@code mode} and {@code fusion}, or null when neither is given (the job's default mode applies). */
    private static Retrieval retrieval(JsonNode mode, JsonNode fusion) throws InvalidInputException {
        boolean hasFusion = fusion != null && !fusion.isNull();
        if (mode == null || mode.isNull()) {
            if (hasFusion) {
                throw new InvalidInputException("invalid_fusion", "'fusion' applies to \"mode\": \"hybrid\" only; add the mode");
            }
            return null;
        }
        Retrieval.Mode m = mode.isTextual() ? Retrieval.Mode.of(mode.textValue()) : null;
        if (m == null) {
            throw new InvalidInputException("invalid_mode",
                    "'mode' must be \"dense\", \"hybrid\" or \"keyword\", got " + Fields.abbreviate(mode.toString()));
        }
        if (!hasFusion) {
            return Retrieval.of(m);
        }
        if (m != Retrieval.Mode.HYBRID) {
            throw new InvalidInputException("invalid_fusion", "'fusion' applies to \"mode\": \"hybrid\" only, not " + m.label());
        }
        return fusion(fusion);
    }

    private static Retrieval fusion(JsonNode f) throws InvalidInputException {
        if (!f.isObject()) {
            throw new InvalidInputException("invalid_fusion", "'fusion' must be an object, got " + Fields.typeOf(f));
        }
        JsonNode method = f.get("method");
        String name = method != null && method.isTextual() ? method.textValue() : "";
        Set<String> allowed = switch (name) {
            case "rrf" -> Set.of("method", "k");
            case "weighted" -> Set.of("method", "dense", "keyword");
            default -> throw new InvalidInputException("invalid_fusion",
                    "'fusion.method' must be \"rrf\" or \"weighted\", got " + Fields.abbreviate(String.valueOf(method)));
        };
        for (Map.Entry<String, JsonNode> e : f.properties()) {
            if (!allowed.contains(e.getKey())) {
                throw new InvalidInputException("invalid_fusion", "'fusion' of method " + name + " has no field '"
                        + Fields.abbreviate(e.getKey()) + "'; it takes " + allowed);
            }
        }
        if (name.equals("rrf")) {
            JsonNode k = f.get("k");
            if (k == null || k.isNull()) {
                return Retrieval.HYBRID;
            }
            if (!k.isIntegralNumber() || !k.canConvertToInt() || k.intValue() < 1 || k.intValue() > Retrieval.MAX_K) {
                throw new InvalidInputException("invalid_fusion",
                        "'fusion.k' must be an integer from 1 to " + Retrieval.MAX_K + ", got " + Fields.abbreviate(k.toString()));
            }
            return Retrieval.rrf(k.intValue());
        }
        double dense = weight(f, "dense");
        double keyword = weight(f, "keyword");
        if (dense + keyword == 0) {
            throw new InvalidInputException("invalid_fusion", "'fusion' weights must not both be 0");
        }
        return Retrieval.weighted(dense, keyword);
    }

    private static double weight(JsonNode f, String leg) throws InvalidInputException {
        JsonNode w = f.get(leg);
        if (w == null || !w.isNumber() || !(w.doubleValue() >= 0 && w.doubleValue() <= 1)) {
            throw new InvalidInputException("invalid_fusion",
                    "'fusion." + leg + "' must be a number from 0 to 1, got " + Fields.abbreviate(String.valueOf(w)));
        }
        return w.doubleValue();
    }

    private static Long optionalLong(ObjectNode obj, String field, long min) throws InvalidInputException {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < min) {
            throw new InvalidInputException(
                    "invalid_" + field, "'" + field + "' must be an integer >= " + min + ", got " + Fields.abbreviate(n.toString()));
        }
        return n.longValue();
    }

    /** A filter is structured data only: field -> scalar (equals) or list of scalars (in). */
    private static Map<String, Object> filter(JsonNode n) throws InvalidInputException {
        Map<String, Object> out = new LinkedHashMap<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw new InvalidInputException(
                    "invalid_filter", "'filter' must be an object of field -> value or [values], got " + Fields.typeOf(n));
        }
        if (n.size() > MAX_FILTER_FIELDS) {
            throw new InvalidInputException(
                    "invalid_filter", "'filter' has " + n.size() + " fields; at most " + MAX_FILTER_FIELDS);
        }
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            Fields.checkName(e.getKey(), "invalid_filter", "filter field");
            out.put(e.getKey(), filterValue(e.getKey(), e.getValue()));
        }
        return out;
    }

    private static Object filterValue(String field, JsonNode v) throws InvalidInputException {
        if (!v.isArray()) {
            Object s = Fields.scalar(v, "filter." + field);
            if (s == null) {
                throw new InvalidInputException(
                        "invalid_filter", "filter '" + field + "' must be a scalar or a list of scalars, got " + Fields.typeOf(v));
            }
            return s;
        }
        if (v.isEmpty() || v.size() > MAX_FILTER_VALUES) {
            throw new InvalidInputException(
                    "invalid_filter", "filter '" + field + "' must list 1.." + MAX_FILTER_VALUES + " values, got " + v.size());
        }
        List<Object> values = new ArrayList<>(v.size());
        for (JsonNode item : v) {
            Object s = Fields.scalar(item, "filter." + field);
            if (s == null) {
                throw new InvalidInputException(
                        "invalid_filter", "filter '" + field + "' lists a " + Fields.typeOf(item) + "; only scalars are allowed");
            }
            values.add(s);
        }
        return values;
    }
}
