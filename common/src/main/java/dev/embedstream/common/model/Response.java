package dev.embedstream.common.model;

import dev.embedstream.common.Utf8;
import java.util.List;

/**
 * The terminal answer to one query, published on {@code embedstream.responses} keyed by request
 * id. Fields that do not apply to a status are null and left out of the JSON. {@code truncated}
 * is true when hit texts, metadata or hits were cut to fit the response budget
 * ({@link ResponseBudget}), and absent otherwise. {@code tenant} names the query's tenant: two
 * tenants may use the same request id on the shared response topic (absent when a bad record
 * named no readable tenant). {@code retryAfterMs} comes with {@code rate_limited}: when the
 * tenant's quota admits a query again.
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
        Boolean truncated,
        Long retryAfterMs) {

    public static final String OK = "ok";
    public static final String ERROR = "error";
    public static final String EXPIRED = "expired";
    public static final String RATE_LIMITED = "rate_limited";
    public static final String OVERLOADED = "overloaded";

    public static Response ok(String requestId, List<Hit> hits, String cache, String model, long tookMs) {
        return new Response(requestId, null, OK, hits, cache, model, tookMs, null, null, null);
    }

    /** The message is cut to {@link ResponseBudget#MAX_ERROR_MESSAGE_BYTES}: it may quote a remote error of any size. */
    public static Response error(String requestId, String code, String message, long tookMs) {
        return new Response(requestId, null, ERROR, null, null, null, tookMs,
                new ErrorInfo(code, Utf8.prefix(message, ResponseBudget.MAX_ERROR_MESSAGE_BYTES)), null, null);
    }

    /** {@code error} / {@code rate_limited}: the tenant is over its query quota; retry after that long. */
    public static Response rateLimited(String requestId, String message, long tookMs, long retryAfterMs) {
        return new Response(requestId, null, ERROR, null, null, null, tookMs,
                new ErrorInfo(RATE_LIMITED, Utf8.prefix(message, ResponseBudget.MAX_ERROR_MESSAGE_BYTES)), null, retryAfterMs);
    }

    public static Response expired(String requestId, long tookMs) {
        return new Response(requestId, null, EXPIRED, null, null, null, tookMs, null, null, null);
    }

    public Response withTenant(String t) {
        return new Response(requestId, t, status, hits, cache, model, tookMs, error, truncated, retryAfterMs);
    }
}
