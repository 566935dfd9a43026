package dev.embedstream.common.milvus;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.json.Json;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Everything that shapes a stored vector: two collections hold comparable vectors only when their
 * spaces are equal. A collection is named after its space ({@link #collectionName}) and stamped
 * with it (the collection property {@link #PROPERTY}, as canonical JSON), so a job can tell, before
 * it writes or searches, whether a collection is in its model's space.
 *
 * @param model the model name (or the directory name of a directory model)
 * @param onnxSha256 the sha256 of the ONNX file: a re-exported or quantised model is another space
 * @param pooling mean or cls
 * @param dimension the vector length
 * @param maxTokens the model window the tokenizer cuts at
 * @param chunkTokens the chunk window documents are cut into
 * @param chunkOverlap the tokens two neighbouring chunks share
 * @param normalisation what is done to the pooled vector (l2)
 * @param idScheme how chunk ids are derived ({@link ChunkRow#ID_SCHEME})
 */
public record VectorSpace(
        String model,
        String onnxSha256,
        String pooling,
        int dimension,
        int maxTokens,
        int chunkTokens,
        int chunkOverlap,
        String normalisation,
        String idScheme)
        implements Serializable {

    /** The collection property that holds the space as JSON. */
    public static final String PROPERTY = "embedstream.vector_space";
    /** The collection property naming the collection the alias served before it was swapped here. */
    public static final String PREVIOUS_PROPERTY = "embedstream.previous";
    /** What embedstream's engine does to every vector. */
    public static final String L2 = "l2";
    /** Separates the alias from the model and the hash in a collection name. */
    static final String SEPARATOR = "__";
    /** Milvus names are at most 255 characters; the model part is cut well below. */
    private static final int MAX_MODEL_PART = 48;

    /**
     * The space a job writes with model {@code spec} (its file hash, pooling and window), vectors
     * of {@code dimension} and these chunk settings: the one place the job and the CLI build it.
     */
    public static VectorSpace of(ModelSpec spec, int dimension, int chunkTokens, int chunkOverlap) {
        return new VectorSpace(spec.name(), spec.sha256(), spec.pooling().name().toLowerCase(Locale.ROOT), dimension,
                spec.maxTokens(), chunkTokens, chunkOverlap, L2, ChunkRow.ID_SCHEME);
    }

    /** The first 8 hex digits of the sha256 of {@link #json()}: what the collection name carries. */
    public String hash() {
        return Hashing.sha256Hex(json()).substring(0, 8);
    }

    /** The space as canonical JSON (fields in a fixed order, snake_case): the stamp. */
    public String json() {
        return "{\"model\":" + Json.write(model) + ",\"onnx_sha256\":" + Json.write(onnxSha256)
                + ",\"pooling\":" + Json.write(pooling) + ",\"dimension\":" + dimension
                + ",\"max_tokens\":" + maxTokens + ",\"chunk_tokens\":" + chunkTokens
                + ",\"chunk_overlap\":" + chunkOverlap + ",\"normalisation\":" + Json.write(normalisation)
                + ",\"id_scheme\":" + Json.write(idScheme) + "}";
    }

    /** The stamp read back, or empty when it is missing or not a space. */
    public static Optional<VectorSpace> parse(String json) {
        if (json == null || json.isBlank()) {
            return Optional.empty();
        }
        try {
            var n = Json.parse(json);
            VectorSpace s = new VectorSpace(n.path("model").asText(null), n.path("onnx_sha256").asText(null),
                    n.path("pooling").asText(null), n.path("dimension").asInt(0), n.path("max_tokens").asInt(0),
                    n.path("chunk_tokens").asInt(0), n.path("chunk_overlap").asInt(0),
                    n.path("normalisation").asText(null), n.path("id_scheme").asText(null));
            return s.model() == null || s.onnxSha256() == null || s.dimension() <= 0 ? Optional.empty() : Optional.of(s);
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    /**
     * {@code <alias>__<model>__<hash>}: the model part lower-cased, every character Milvus does not
     * allow in a name turned into {@code _}, so a person sees which model a collection holds.
     */
    public String collectionName(String alias) {
        String slug = model.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (slug.length() > MAX_MODEL_PART) {
            slug = slug.substring(0, MAX_MODEL_PART);
        }
        return alias + SEPARATOR + slug + SEPARATOR + hash();
    }

    /** Whether {@code name} is one of the collections behind {@code alias} (by name). */
    public static boolean behind(String alias, String name) {
        return name.startsWith(alias + SEPARATOR) && name.length() > alias.length() + SEPARATOR.length();
    }

    /** For messages: {@code model (sha256 1a2b3c4d..., mean, 384 dims, window 256, chunks 256/32) = hash}. */
    public String describe() {
        return model + " (onnx sha256 " + onnxSha256.substring(0, Math.min(12, onnxSha256.length())) + "…, "
                + pooling + " pooling, " + dimension + " dims, max " + maxTokens + " tokens, chunks " + chunkTokens
                + "/" + chunkOverlap + ", " + normalisation + ", ids " + idScheme + ") = " + hash();
    }

    /** The fields in which {@code other} differs from this space, for a refusal message. */
    public List<String> differences(VectorSpace other) {
        List<String> d = new ArrayList<>();
        diff(d, "model", model, other.model);
        diff(d, "onnx_sha256", onnxSha256, other.onnxSha256);
        diff(d, "pooling", pooling, other.pooling);
        diff(d, "dimension", dimension, other.dimension);
        diff(d, "max_tokens", maxTokens, other.maxTokens);
        diff(d, "chunk_tokens", chunkTokens, other.chunkTokens);
        diff(d, "chunk_overlap", chunkOverlap, other.chunkOverlap);
        diff(d, "normalisation", normalisation, other.normalisation);
        diff(d, "id_scheme", idScheme, other.idScheme);
        return d;
    }

    private static void diff(List<String> out, String field, Object mine, Object theirs) {
        if (!java.util.Objects.equals(mine, theirs)) {
            out.add(field + " " + theirs + " -> " + mine);
        }
    }
}
