package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.Embedder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A fake model for operator harness tests and PipelineTest: records every batch it is given and
 * returns the vector (text length, 1). Static because the operator serializes its factory.
 */
public final class RecordingEmbedder implements Embedder {

    public static final List<List<String>> CALLS = Collections.synchronizedList(new ArrayList<>());
    static volatile boolean failing;
    /** Part of the fingerprint, so each test starts with an empty in-process cache. */
    private static volatile int generation;

    public static void reset() {
        CALLS.clear();
        failing = false;
        generation++;
    }

    @Override
    public float[][] embed(List<String> texts) {
        CALLS.add(List.copyOf(texts));
        if (failing) {
            throw new IllegalStateException("model exploded");
        }
        float[][] out = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            out[i] = new float[] {texts.get(i).length(), 1};
        }
        return out;
    }

    @Override
    public String fingerprint() {
        return "recording-" + generation;
    }

    @Override
    public int dimension() {
        return 2;
    }

    @Override
    public void close() {}
}
