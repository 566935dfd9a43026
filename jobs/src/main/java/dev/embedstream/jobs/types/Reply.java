package dev.embedstream.jobs.types;

/** A serialized response for the responses topic; {@code replyPartition} is -1 for "by key". */
public record Reply(String requestId, int replyPartition, String status, String json) {}
