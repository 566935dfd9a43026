package dev.embedstream.common.model;

import java.util.Map;

/** One document in a query answer: its best-scoring chunk. */
public record Hit(String docId, int chunk, double score, String text, Map<String, Object> metadata) {}
