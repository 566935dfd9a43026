package dev.embedstream.jobs.operators;

import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import org.apache.flink.util.OutputTag;

/** Turns a terminal {@link Response} into the record the response sink writes. */
public final class Replies {

    /** Answers produced off the main path (bad queries, expired queries). */
    public static final OutputTag<Reply> TAG = new OutputTag<>("replies") {};

    private Replies() {}

    public static Reply of(Response response, int replyPartition) {
        return new Reply(response.requestId(), replyPartition, response.status(), Json.write(response));
    }

    public static Reply expired(QueryTask q, long now) {
        return of(Response.expired(q.requestId(), now - q.receivedAtMs()), q.replyPartition());
    }

    public static Reply error(QueryTask q, String code, String message, long now) {
        return of(Response.error(q.requestId(), code, message, now - q.receivedAtMs()), q.replyPartition());
    }
}
