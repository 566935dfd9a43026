package dev.embedstream.common.embed;

import java.util.List;

/** Turns texts into unit vectors, one per text, in order. */
public interface Embedder extends AutoCloseable {

    float[][] embed(List<String> texts);

    /** Changes whenever the vectors could: part of every cache key. */
    String fingerprint();

    /** Length of every vector; what the embedding cache accepts from Redis. */
    int dimension();

    @Override
    void close();
}
