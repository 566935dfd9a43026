package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.jobs.settings.ModelSettings;
import java.io.Serializable;

/** Opens the subtask's embedder in {@code open()}; the job uses the ONNX engine. */
@FunctionalInterface
public interface EmbedderFactory extends Serializable {

    Embedder open();

    /**
     * The fingerprint of the embedders this opens, for an operator that keys caches by the model
     * without running it (the search). This default opens one to ask; the ONNX factory answers
     * from the model files without loading the model.
     */
    default String fingerprint() {
        try (Embedder e = open()) {
            return e.fingerprint();
        }
    }

    static EmbedderFactory onnx(ModelSettings settings) {
        return new EmbedderFactory() {
            private static final long serialVersionUID = 1L;

            @Override
            public Embedder open() {
                return EmbeddingEngine.open(settings.spec(), settings.threads());
            }

            @Override
            public String fingerprint() {
                return settings.spec().fingerprint();
            }
        };
    }
}
