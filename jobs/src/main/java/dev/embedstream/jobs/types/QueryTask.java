package dev.embedstream.jobs.types;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Retrieval;

/**
 * A validated query on its way through the job. The filter travels as canonical JSON;
 * {@code deadlineMs} is 0 and {@code replyPartition} -1 when absent; {@code receivedAtMs} is the
 * Kafka record timestamp, the start of the latency a client sees. {@code answerKey} is the
 * retrieval-cache key its answer is stored under, or null when it is not to be cached.
 *
 * <p>A query's identity is (tenant, request_id): {@link #key()} keys query dedup and the reply
 * cache, and {@link #digest()} tells a repeat of the same query from a reuse of its request id.
 */
public record QueryTask(
        String requestId,
        String text,
        int topK,
        String tenant,
        String filterJson,
        long deadlineMs,
        int replyPartition,
        long receivedAtMs,
        float[] vector,
        String answerKey,
        String collection,
        String model,
        String retrieval,
        boolean modeAsked) {

    /** A query restored from state of a version before modes has none: it was dense. */
    public QueryTask {
        if (retrieval == null) {
            retrieval = Retrieval.DENSE.canonical();
            modeAsked = true;
        }
    }

    /** A dense query not yet routed: {@code collection} and {@code model} are set by {@link #withRoute}. */
    public QueryTask(String requestId, String text, int topK, String tenant, String filterJson, long deadlineMs,
            int replyPartition, long receivedAtMs, float[] vector, String answerKey) {
        this(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, vector, answerKey,
                null, null, Retrieval.DENSE.canonical(), true);
    }

    /**
     * How it is answered ({@link Retrieval#canonical()} form in the record, so it serializes as a
     * string); {@code modeAsked} is false when the query named no mode and got the job's default.
     */
    public Retrieval retrievalMode() {
        return Retrieval.parse(retrieval);
    }

    /**
     * The retrieval its cached answer is keyed by: a query that got the job's default mode is kept
     * apart from one that named it, since on a collection without a keyword index the first is
     * answered dense and the second {@code mode_unsupported}.
     */
    public String cachedAs() {
        // A dense answer is the same wherever it comes from, so dense keys stay those of before modes.
        return modeAsked || retrieval.equals(Retrieval.DENSE.canonical()) ? retrieval : "default/" + retrieval;
    }

    /** {@code <tenant>:<request_id>}: unambiguous, since a tenant never contains ':'. */
    public static String key(String tenant, String requestId) {
        return tenant + ":" + requestId;
    }

    public String key() {
        return key(tenant, requestId);
    }

    /**
     * sha256 (hex) of what the query asks: text, top_k, canonical filter JSON and, when it names
     * one, its retrieval (mode and fusion), written as one JSON object so no two queries share an
     * encoding. Deadline and reply partition are left out: a client retrying with a new deadline
     * asks the same query. A query that names no mode hashes as every query did before modes
     * existed ({@code "mode":"dense"}), whatever the job's default is now: a retry across an upgrade
     * or a change of {@code milvus.search.default-mode} is still a repeat, and a named mode is
     * never the same query as the default (on a collection without a keyword index they differ).
     */
    public String digest() {
        String asked = modeAsked ? "{\"retrieval\":" + Json.write(retrieval) + "," : "{\"mode\":\"dense\",";
        return Hashing.sha256Hex(asked + "\"text\":" + Json.write(text)
                + ",\"top_k\":" + topK + ",\"filter\":" + filterJson + "}");
    }

    public boolean expiredAt(long nowMs) {
        return deadlineMs > 0 && nowMs > deadlineMs;
    }

    /**
     * The latest time its answer is still worth sending: its {@code deadline_ms} when the client
     * gave one (a client that says it will wait longer is believed), else {@code maxLatencyMs}
     * ({@code query.max-latency}) after the client sent it.
     */
    public long effectiveDeadlineMs(long maxLatencyMs) {
        return deadlineMs > 0 ? deadlineMs : receivedAtMs + maxLatencyMs;
    }

    public QueryTask withVector(float[] v) {
        return new QueryTask(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, v,
                answerKey, collection, model, retrieval, modeAsked);
    }

    public QueryTask withAnswerKey(String key) {
        return new QueryTask(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, vector,
                key, collection, model, retrieval, modeAsked);
    }

    /**
     * The collection the query searches and the model that embeds it, chosen once (by the alias)
     * when the query enters the embedding operator, so both always belong to one vector space.
     */
    public QueryTask withRoute(String searchIn, String embeddedBy) {
        return new QueryTask(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, vector,
                answerKey, searchIn, embeddedBy, retrieval, modeAsked);
    }
}
