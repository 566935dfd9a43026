package dev.embedstream.common.model;

/**
 * A record that could not be processed, with where it came from, the stage that rejected it and
 * why. {@code payloadEncoding} is {@code utf8} or {@code base64} (for bytes that are not UTF-8).
 */
public record DeadLetter(
        String sourceTopic,
        int partition,
        long offset,
        String stage,
        ErrorInfo error,
        String payload,
        String payloadEncoding,
        long at) {}
