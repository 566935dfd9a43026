package dev.embedstream.common.filter;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Pattern;

/**
 * Compiles a query's tenant and structured filter into a Milvus boolean expression. Input is
 * structured data only; field names are checked against a strict pattern and every value is
 * emitted as an escaped literal, so no input can become expression syntax.
 */
public final class FilterCompiler {

    private static final Pattern FIELD = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

    private FilterCompiler() {}

    /** {@code tenant == "t" and metadata["f"] == v and (metadata["g"] == a or metadata["g"] == b)} */
    public static String compile(String tenant, Map<String, Object> filter) {
        StringJoiner and = new StringJoiner(" and ");
        and.add("tenant == " + literal(tenant));
        for (Map.Entry<String, Object> e : filter.entrySet()) {
            if (!FIELD.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("filter field name not allowed: " + e.getKey());
            }
            String field = "metadata[" + literal(e.getKey()) + "]";
            if (e.getValue() instanceof List<?> values) {
                // "in" is spelled as ORed equalities: Milvus Lite accepts "in" only on plain
                // fields, not on JSON paths, and the two forms mean the same.
                StringJoiner any = new StringJoiner(" or ", "(", ")");
                values.forEach(v -> any.add(field + " == " + literal(v)));
                and.add(any.toString());
            } else {
                and.add(field + " == " + literal(e.getValue()));
            }
        }
        return and.toString();
    }

    /** A Milvus literal for a string, integral, floating or boolean value. */
    public static String literal(Object value) {
        if (value instanceof String s) {
            StringBuilder out = new StringBuilder(s.length() + 2).append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (Character.isISOControl(c)) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            return out.append('"').toString();
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Double d && Double.isFinite(d)) {
            return java.math.BigDecimal.valueOf(d).toPlainString();
        }
        throw new IllegalArgumentException("not a filter literal: " + value);
    }
}
