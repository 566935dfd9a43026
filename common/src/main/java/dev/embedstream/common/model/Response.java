package dev.embedstream.common.model;

import dev.embedstream.common.Utf8;
import java.util.List;

/**
 * The terminal answer to one query, published on {@code embedstream.responses} keyed by request
 * id. Fields that do not apply to a status are null and left out of the JSON. {@code truncated}
 * is true when hit texts, metadata or hits were cut to fit the response budget
 * ({@link ResponseBudget}), and absent otherwise. {@code tenant} names the query's tenant: two
 * tenants may use the same request id on the shared response topic (absent when a bad record
 * named no readable tenant).
 */
public record Response(
        String requestId,
        String tenant,
        String status,
        List<Hit> hits,
        String cache,
        String model,
        Long tookMs,
        ErrorInfo error,
        Boolean truncated) {

    public static final String OK = "ok";
    public static final String ERROR = "error";
    public static final String EXPIRED = "expired";

    public static Response ok(String requestId, List<Hit> hits, String cache, String model, long tookMs) {
        return new Response(requestId, null, OK, hits, cache, model, tookMs, null, null);
    }

    /** The message is cut to {@link ResponseBudget#MAX_ERROR_MESSAGE_BYTES}: it may quote a remote error of any size. */
    public static Response error(String requestId, String code, String message, long tookMs) {
        return new Response(requestId, null, ERROR, null, null, null, tookMs,
                new ErrorInfo(code, Utf8.prefix(message, ResponseBudget.MAX_ERROR_MESSAGE_BYTES)), null);
    }

    public static Response expired(String requestId, long tookMs) {
        return new Response(requestId, null, EXPIRED, null, null, null, tookMs, null, null);
    }

    public Response withTenant(String t) {
        return new Response(requestId, t, status, hits, cache, model, tookMs, error, truncated);
    }
}
