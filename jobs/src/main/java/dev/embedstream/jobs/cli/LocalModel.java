package dev.embedstream.jobs.cli;

import dev.embedstream.common.cache.CacheKeys;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.VectorSpace;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A model opened in the CLI's own JVM (the model jars are on its classpath, scripts/embedstream):
 * to compute the vector space a job would stamp its collection with, and to embed evaluation
 * queries exactly as the query path does (normalised text). The CLI jar carries no Flink, so it
 * cannot use the job's ModelSettings; both build the space with {@link VectorSpace#of}.
 */
final class LocalModel implements AutoCloseable {

    private final ModelSpec spec;
    private final EmbeddingEngine engine;
    private final VectorSpace space;

    private LocalModel(ModelSpec spec, EmbeddingEngine engine, VectorSpace space) {
        this.spec = spec;
        this.engine = engine;
        this.space = space;
    }

    /**
     * Opens {@code nameOrDir} (a known model name or a directory with model.onnx and
     * tokenizer.json) with the job's chunk settings.
     *
     * @param pooling the pooling of a directory model; named models know theirs
     */
    static LocalModel open(String nameOrDir, Pooling pooling, int maxTokens, int chunkTokens, int chunkOverlap,
            Path cacheDir) {
        ModelSpec spec = ModelCatalog.resolve(nameOrDir, pooling, maxTokens, cacheDir);
        EmbeddingEngine engine = EmbeddingEngine.open(spec, 1);
        try {
            return new LocalModel(spec, engine, space(spec, engine.dimension(), chunkTokens, chunkOverlap));
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /** The space a job with this model and these chunk settings writes (as ModelSettings.space). */
    static VectorSpace space(ModelSpec spec, int dimension, int chunkTokens, int chunkOverlap) {
        return VectorSpace.of(spec, dimension, chunkTokens, chunkOverlap);
    }

    /**
     * Opens the model of a collection from its stamp: {@code nameOrDir} defaults to the stamp's
     * model name (a directory model's stamp holds only the directory's name, so it must be given)
     * and must give exactly the stamped space, or the figures would be of another model.
     */
    static LocalModel ofSpace(VectorSpace stamp, String nameOrDir, Path cacheDir) {
        LocalModel m = open(nameOrDir == null ? stamp.model() : nameOrDir,
                Pooling.valueOf(stamp.pooling().toUpperCase(Locale.ROOT)), stamp.maxTokens(), stamp.chunkTokens(),
                stamp.chunkOverlap(), cacheDir);
        if (!m.space().equals(stamp)) {
            m.close();
            throw new IllegalStateException("model '" + (nameOrDir == null ? stamp.model() : nameOrDir) + "' gives vector space "
                    + m.space().describe() + ", not the collection's " + stamp.describe() + " (differs in: "
                    + String.join(", ", stamp.differences(m.space())) + ")");
        }
        return m;
    }

    VectorSpace space() {
        return space;
    }

    ModelSpec spec() {
        return spec;
    }

    float[] embed(String text) {
        return engine.embed(List.of(CacheKeys.normalise(text)))[0];
    }

    @Override
    public void close() {
        engine.close();
    }
}
