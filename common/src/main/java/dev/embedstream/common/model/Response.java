package dev.embedstream.common.model;

import java.util.List;

/**
 * The terminal answer to one query, published on {@code embedstream.responses} keyed by request
 * id. Fields that do not apply to a status are null and left out of the JSON.
 */
public record Response(
        String requestId,
        String status,
        List<Hit> hits,
        String cache,
        String model,
        Long tookMs,
        ErrorInfo error) {

    public static final String OK = "ok";
    public static final String ERROR = "error";
    public static final String EXPIRED = "expired";

    public static Response ok(String requestId, List<Hit> hits, String cache, String model, long tookMs) {
        return new Response(requestId, OK, hits, cache, model, tookMs, null);
    }

    public static Response error(String requestId, String code, String message, long tookMs) {
        return new Response(requestId, ERROR, null, null, null, tookMs, new ErrorInfo(code, message));
    }

    public static Response expired(String requestId, long tookMs) {
        return new Response(requestId, EXPIRED, null, null, null, tookMs, null);
    }
}
