package dev.embedstream.jobs.operators;

import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import org.apache.flink.util.OutputTag;

/**
 * Turns a terminal {@link Response} into the record the response sink writes. An answer to a
 * query that passed {@link DedupQueries} carries the query's tenant and digest, so the
 * {@link ReplyCache} can re-send it to repeats of that same query and to nothing else.
 */
public final class Replies {

    /** Answers produced off the main path (bad queries, expired queries, request-id conflicts). */
    public static final OutputTag<Reply> TAG = new OutputTag<>("replies") {};

    public static final String REQUEST_ID_CONFLICT = "request_id_conflict";

    private Replies() {}

    /** The answer to {@code q}, a query that passed dedup: kept for re-sending to its repeats. */
    public static Reply of(QueryTask q, Response response) {
        return new Reply(q.tenant(), response.requestId(), q.digest(), q.replyPartition(), response.status(),
                Json.write(response.withTenant(q.tenant())));
    }

    /** An answer to no deduplicated query (a bad record, a query expired on arrival): sent, never kept. */
    public static Reply unkept(Response response, int replyPartition) {
        return new Reply(null, response.requestId(), null, replyPartition, response.status(), Json.write(response));
    }

    public static Reply expired(QueryTask q, long now) {
        return of(q, Response.expired(q.requestId(), now - q.receivedAtMs()));
    }

    /**
     * {@code expired} for a query that has not passed dedup: not kept, so a retry with a new
     * deadline gets a real answer.
     */
    public static Reply expiredOnArrival(QueryTask q, long now) {
        return unkept(Response.expired(q.requestId(), now - q.receivedAtMs()).withTenant(q.tenant()), q.replyPartition());
    }

    public static Reply error(QueryTask q, String code, String message, long now) {
        return of(q, Response.error(q.requestId(), code, message, now - q.receivedAtMs()));
    }

    /**
     * {@code error} / {@code overloaded}: the query would be answered after its effective deadline
     * ({@link QueryTask#effectiveDeadlineMs}), so it is answered now instead of late.
     *
     * @param expectedWaitMs in how long its answer was expected (0: its deadline has passed already)
     */
    public static Response overloaded(QueryTask q, long expectedWaitMs, long deadlineMs, long now) {
        return Response.error(q.requestId(), Response.OVERLOADED, "overloaded: waited " + (now - q.receivedAtMs())
                + " ms, answer expected in " + expectedWaitMs + " ms more: " + (now + expectedWaitMs - deadlineMs)
                + " ms past its deadline (deadline_ms, or query.max-latency after it was sent); retry later",
                now - q.receivedAtMs()).withTenant(q.tenant());
    }

    /**
     * The answer to a query that reuses a request id of its tenant for a different query. It is
     * not kept: the first query's answer stays the one its repeats get.
     */
    public static Reply conflict(QueryTask q, long now) {
        return unkept(Response.error(q.requestId(), REQUEST_ID_CONFLICT,
                "request_id '" + q.requestId() + "' was already used by tenant '" + q.tenant()
                        + "' for a different query (text, top_k, filter or mode differ); use a new request_id per query",
                now - q.receivedAtMs()).withTenant(q.tenant()), q.replyPartition());
    }
}
