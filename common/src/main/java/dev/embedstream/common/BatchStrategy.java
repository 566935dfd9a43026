package dev.embedstream.common;

/** How the document lane forms inference batches (option {@code batch.strategy}). */
public enum BatchStrategy {
    /** Oldest chunk plus its neighbours in length, up to a padded-token target fitted to measured cost. */
    ADAPTIVE,
    /**
     * Chunks in arrival order, {@code batch.max-size} at a time (or fewer after
     * {@code batch.documents.max-wait}): the classic fixed batch, kept as the baseline the
     * benchmark compares against; with {@code batch.max-size 1} it is per-record inference.
     */
    FIXED
}
