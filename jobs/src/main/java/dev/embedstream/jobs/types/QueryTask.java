package dev.embedstream.jobs.types;

/**
 * A validated query on its way through the job. The filter travels as canonical JSON;
 * {@code deadlineMs} is 0 and {@code replyPartition} -1 when absent; {@code receivedAtMs} is the
 * Kafka record timestamp, the start of the latency a client sees. {@code answerKey} is the
 * retrieval-cache key its answer is stored under, or null when it is not to be cached.
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
        String answerKey) {

    public boolean expiredAt(long nowMs) {
        return deadlineMs > 0 && nowMs > deadlineMs;
    }

    public QueryTask withVector(float[] v) {
        return new QueryTask(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, v, answerKey);
    }

    public QueryTask withAnswerKey(String key) {
        return new QueryTask(requestId, text, topK, tenant, filterJson, deadlineMs, replyPartition, receivedAtMs, vector, key);
    }
}
