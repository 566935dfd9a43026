package dev.embedstream.common.embed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.testing.TestServers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EmbeddingEngineTest {

    private static EmbeddingEngine engine;

    @BeforeAll
    static void open() {
        engine = TestServers.openDefaultEngine();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Golden vectors made by scripts/golden/make_golden.py (Python onnxruntime + tokenizers). */
    @Test
    void vectorsMatchIndependentPythonReferenceWithCosineAtLeast09999() throws Exception {
        JsonNode golden;
        try (InputStream in = getClass().getResourceAsStream("/golden/all-minilm-l6-v2.json")) {
            golden = Json.mapper().readTree(in);
        }
        List<String> texts = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (JsonNode c : golden.get("cases")) {
            texts.add(c.get("text").asText());
            float[] v = new float[c.get("vector").size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) c.get("vector").get(i).asDouble();
            }
            expected.add(v);
        }
        assertThat(texts).hasSizeGreaterThanOrEqualTo(20);
        // One padded batch: padding must not change any vector.
        float[][] batched = engine.embed(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(cosine(batched[i], expected.get(i)))
                    .as("cosine for case %d: %s", i, texts.get(i))
                    .isGreaterThanOrEqualTo(0.9999);
            float[] single = engine.embed(List.of(texts.get(i)))[0];
            assertThat(cosine(single, expected.get(i))).isGreaterThanOrEqualTo(0.9999);
        }
    }

    @Test
    void vectorsAreUnitLengthWithModelDimension() {
        float[][] v = engine.embed(List.of("a", "a somewhat longer sentence about logging"));
        assertThat(engine.dimension()).isEqualTo(384);
        for (float[] row : v) {
            assertThat(row).hasSize(384);
            assertThat(cosine(row, row)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
    }

    @Test
    void shortTextIsItsOwnSingleChunk() {
        String text = "Rotate the log file when it reaches a size limit.";
        assertThat(chunker(256, 32).chunk(text)).extracting(TextChunker.Chunk::text).containsExactly(text);
    }

    @Test
    void longTextSplitsIntoOverlappingWindowsThatFitTheModel() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 120; i++) {
            sb.append("Sentence number ").append(i).append(" talks about héllo wörld and 日本語 text 🎉. ");
        }
        String text = sb.toString().strip();
        List<String> chunks = chunker(64, 16).chunk(text).stream().map(TextChunker.Chunk::text).toList();
        assertThat(chunks).hasSizeGreaterThan(5);
        for (String c : chunks) {
            assertThat(text).contains(c);
            assertThat(engine.tokenCount(c)).isLessThanOrEqualTo(64);
        }
        assertThat(text).startsWith(chunks.get(0));
        assertThat(text).endsWith(chunks.get(chunks.size() - 1));
        // consecutive windows overlap: the tail of one reappears at the head of the next
        for (int i = 1; i < chunks.size(); i++) {
            String prev = chunks.get(i - 1);
            String tail = prev.substring(prev.length() - 10);
            assertThat(chunks.get(i)).contains(tail.trim());
        }
    }

    @Test
    void paddingInABatchDoesNotChangeAVector() {
        String shortText = "disk full";
        float[] alone = engine.embed(List.of(shortText))[0];
        float[] padded = engine.embed(List.of(shortText, "a much longer neighbour ".repeat(30)))[0];
        assertThat(cosine(alone, padded)).isGreaterThan(0.99999);
    }

    private static TextChunker chunker(int window, int overlap) {
        return new TextChunker(TestServers.defaultModel(), window, overlap);
    }

    @ParameterizedTest
    @CsvSource({"all-minilm-l6-v2-q, MEAN", "bge-small-en-v15, CLS"})
    void everyNamedModelLoadsFromItsMavenArtifact(String name, Pooling pooling) {
        ModelSpec spec = ModelCatalog.resolve(name, null, 256, TestServers.modelCache());
        assertThat(spec.pooling()).isEqualTo(pooling);
        assertThat(spec.fingerprint()).startsWith(name + ":").endsWith(":" + pooling.name().toLowerCase() + ":256");
        try (EmbeddingEngine other = EmbeddingEngine.open(spec, 1)) {
            float[][] v = other.embed(List.of("rotate the log files", "rotate log files daily", "bake a cake"));
            assertThat(other.dimension()).isEqualTo(384);
            // Sanity of meaning: the two logging sentences are closer than logging and cake.
            assertThat(cosine(v[0], v[1])).isGreaterThan(cosine(v[0], v[2]));
            if (name.equals("all-minilm-l6-v2-q")) {
                float[] fp32 = engine.embed(List.of("rotate the log files"))[0];
                assertThat(cosine(v[0], fp32)).as("int8 vs fp32").isGreaterThan(0.95);
            }
        }
    }

    @Test
    void aDirectoryWithModelOnnxAndTokenizerJsonIsAModel(@TempDir Path dir) throws Exception {
        Files.copy(TestServers.defaultModel().onnx(), dir.resolve("model.onnx"));
        Files.copy(TestServers.defaultModel().tokenizer(), dir.resolve("tokenizer.json"));
        ModelSpec spec = ModelCatalog.resolve(dir.toString(), Pooling.MEAN, 256, TestServers.modelCache());
        assertThat(spec.sha256()).isEqualTo(TestServers.defaultModel().sha256());
        try (EmbeddingEngine fromDir = EmbeddingEngine.open(spec, 1)) {
            assertThat(cosine(fromDir.embed(List.of("same model"))[0], engine.embed(List.of("same model"))[0]))
                    .isGreaterThan(0.99999);
        }
    }

    @Test
    void unknownModelNameSaysWhatIsAccepted() {
        assertThatThrownBy(() -> ModelCatalog.resolve("no-such-model", null, 256, TestServers.modelCache()))
                .hasMessageContaining("all-minilm-l6-v2").hasMessageContaining("model.onnx");
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
