package dev.embedstream.common.model;

import java.util.Map;

/**
 * A validated query from {@code embedstream.queries}. {@code filter} maps a metadata field to a
 * scalar (equals) or a list of scalars (in). {@code deadlineMs}, {@code replyPartition} and
 * {@code retrieval} ({@code mode} and {@code fusion}) are null when absent; the job's default mode
 * ({@code milvus.search.default-mode}) then applies.
 */
public record Query(
        String requestId,
        String text,
        int topK,
        String tenant,
        Map<String, Object> filter,
        Long deadlineMs,
        Integer replyPartition,
        Retrieval retrieval) {

    /** True when the query carries a deadline that has passed at {@code nowMs}. */
    public boolean expiredAt(long nowMs) {
        return deadlineMs != null && nowMs > deadlineMs;
    }

}
