package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.Hashing;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.VectorSpace;
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

    /**
     * The vector space this factory's embedders write with {@code model}'s chunk settings. This
     * default (test embedders) opens one to ask; the file hash stands in for the fingerprint's.
     */
    default VectorSpace space(ModelSettings model) {
        try (Embedder e = open()) {
            return new VectorSpace(model.name(), Hashing.sha256Hex(e.fingerprint()), "mean", e.dimension(),
                    model.maxTokens(), model.chunkMaxTokens(), model.chunkOverlapTokens(), VectorSpace.L2, ChunkRow.ID_SCHEME);
        }
    }

    /**
     * A factory of embedders of another model (the query path following the alias after a model
     * migration). Test embedders have one model only.
     */
    default EmbedderFactory forModel(ModelSettings other) {
        throw new UnsupportedOperationException("this embedder has one model only; cannot load " + other.name());
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

            /** Opens the model once to read its dimension; everything else comes from its files. */
            @Override
            public VectorSpace space(ModelSettings model) {
                try (Embedder e = open()) {
                    return model.space(e.dimension());
                }
            }

            @Override
            public EmbedderFactory forModel(ModelSettings other) {
                return onnx(other);
            }
        };
    }
}
