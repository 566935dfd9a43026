package dev.embedstream.jobs.types;

/**
 * A serialized response for the responses topic; {@code replyPartition} is -1 for "by key".
 * {@code tenant} and {@code digest} name the query it answers ({@link QueryTask#digest()}); both
 * are null for a reply that answers no deduplicated query (a record that did not parse, a query
 * expired on arrival, a request-id conflict): such a reply is sent but never kept for re-sending.
 */
public record Reply(String tenant, String requestId, String digest, int replyPartition, String status, String json) {

    /** The reply cache's key: the query's identity, or a key no tenant can have when there is none. */
    public String key() {
        return QueryTask.key(tenant == null ? "" : tenant, requestId);
    }

    /** Whether this is the answer of a first ask, to be re-sent to repeats of the same query. */
    public boolean answersAQuery() {
        return tenant != null && digest != null;
    }

    public Reply withJson(String newJson) {
        return new Reply(tenant, requestId, digest, replyPartition, status, newJson);
    }
}
