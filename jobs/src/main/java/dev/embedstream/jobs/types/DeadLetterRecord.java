package dev.embedstream.jobs.types;

/** A serialized dead letter for the DLQ topic, keyed by the original record's key. */
public record DeadLetterRecord(byte[] key, String json) {}
