package dev.embedstream.common.model;

import java.util.Map;

/**
 * A validated query from {@code embedstream.queries}. {@code filter} maps a metadata field to a
 * scalar (equals) or a list of scalars (in). {@code deadlineMs} and {@code replyPartition} are
 * null when absent.
 */
public record Query(
        String requestId,
        String text,
        int topK,
        String tenant,
        Map<String, Object> filter,
        Long deadlineMs,
        Integer replyPartition) {

    /** True when the query carries a deadline that has passed at {@code nowMs}. */
    public boolean expiredAt(long nowMs) {
        return deadlineMs != null && nowMs > deadlineMs;
    }

}
