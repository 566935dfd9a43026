package dev.embedstream.jobs.cli;

import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.VectorSpace;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The vector space of migrate's new collection (a picocli mixin): what differs from the serving
 * collection besides the model. An option not given keeps the serving collection's value, so a
 * migration changes only what it names.
 */
final class NewSpaceOptions {

    @Option(names = "--chunk-tokens", paramLabel = "N",
            description = "chunk.max-tokens of the new collection (default: the serving collection's).")
    Integer chunkTokens;

    @Option(names = "--chunk-overlap", paramLabel = "N",
            description = "chunk.overlap-tokens of the new collection (default: the serving collection's).")
    Integer chunkOverlap;

    @Option(names = "--max-tokens", paramLabel = "N",
            description = "model.max-tokens of the new model (default: the serving collection's).")
    Integer maxTokens;

    @Option(names = "--pooling", paramLabel = "MEAN|CLS", description = "Pooling of a directory model (default: MEAN).")
    Pooling pooling;

    @Option(names = "--model-cache-dir", paramLabel = "DIR", defaultValue = "${java.io.tmpdir}/embedstream-models",
            description = "Where named models are extracted here (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    /** The new model loaded here, with the options given and the serving space's values for the rest. */
    LocalModel open(String model, VectorSpace serving) {
        return LocalModel.open(model, pooling, or(maxTokens, serving.maxTokens()), or(chunkTokens, serving.chunkTokens()),
                or(chunkOverlap, serving.chunkOverlap()), cacheDir);
    }

    private static int or(Integer given, int fallback) {
        return given == null ? fallback : given;
    }
}
