package dev.embedstream.common.model;

import java.util.Map;

/**
 * One document in a query answer: its best-scoring chunk. {@code ranks} is set for hybrid answers
 * only: the document's rank (1 = best) in each leg that found it ({@code dense}, {@code keyword}).
 */
public record Hit(String docId, int chunk, double score, String text, Map<String, Object> metadata,
        Map<String, Integer> ranks) {

    /** A hit of one leg (dense or keyword): no ranks. */
    public Hit(String docId, int chunk, double score, String text, Map<String, Object> metadata) {
        this(docId, chunk, score, text, metadata, null);
    }
}
