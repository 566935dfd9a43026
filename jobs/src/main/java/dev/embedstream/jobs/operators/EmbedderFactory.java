package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.jobs.JobSettings;
import java.io.Serializable;

/** Opens the subtask's embedder in {@code open()}; the job uses the ONNX engine. */
@FunctionalInterface
public interface EmbedderFactory extends Serializable {

    Embedder open();

    static EmbedderFactory onnx(JobSettings settings) {
        return () -> EmbeddingEngine.open(settings.modelSpec(), settings.modelThreads());
    }
}
