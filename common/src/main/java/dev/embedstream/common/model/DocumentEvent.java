package dev.embedstream.common.model;

import java.util.Map;

/**
 * A validated document event from {@code embedstream.documents}. {@code text} is null for deletes;
 * {@code metadata} is a flat map of scalars (String, Number, Boolean).
 */
public record DocumentEvent(
        String docId, Op op, String text, String tenant, Map<String, Object> metadata) {}
