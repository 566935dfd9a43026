package dev.embedstream.jobs.cli;

import dev.embedstream.common.Defaults;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.Pooling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The embedding engines bench-model runs (a picocli mixin): as many as the job has embedding
 * subtasks, each with its ONNX Runtime threads, on model files resolved as the job resolves them.
 */
final class EngineOptions {

    @Option(names = "--parallel", defaultValue = "2", description = "Engines running at once (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--threads", defaultValue = "1", description = "ONNX Runtime threads per engine (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--model-cache-dir", defaultValue = "${java.io.tmpdir}/embedstream-models",
            description = "Where model files are extracted (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    /** A model's files, with the job's default pooling and window. */
    ModelSpec spec(String model) {
        return ModelCatalog.resolve(model, Pooling.MEAN, Defaults.MODEL_MAX_TOKENS, cacheDir);
    }

    /** {@code --parallel} engines of {@code --threads} threads each; the caller closes them. */
    List<EmbeddingEngine> open(ModelSpec spec) {
        List<EmbeddingEngine> engines = new ArrayList<>();
        for (int i = 0; i < parallel; i++) {
            engines.add(EmbeddingEngine.open(spec, threads));
        }
        return engines;
    }
}
