package dev.embedstream.common.model;

/**
 * A record that could not be processed, with where it came from, the stage that rejected it and
 * why. {@code payloadEncoding} is {@code utf8}, {@code base64} (for bytes that are not UTF-8) or
 * {@code none} (a record without value). A payload cut to the dead-letter budget carries
 * {@code payloadTruncated}, the original length {@code payloadBytes} and its {@code payloadSha256};
 * the three are null (left out) otherwise.
 */
public record DeadLetter(
        String sourceTopic,
        int partition,
        long offset,
        String stage,
        ErrorInfo error,
        String payload,
        String payloadEncoding,
        long at,
        Integer payloadBytes,
        String payloadSha256,
        Boolean payloadTruncated) {}
