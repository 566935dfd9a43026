package dev.embedstream.common.model;

/** A machine-readable code and a message a person can act on. */
public record ErrorInfo(String code, String message) {}
