package dev.embedstream.common.embed;

import ai.djl.ModelException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * ONNX embedding inference through DJL with the OnnxRuntime engine and the HuggingFace tokenizer.
 * One instance per subtask: it owns a predictor, which is not thread-safe.
 */
public final class EmbeddingEngine implements Embedder {

    private final ModelSpec spec;
    private final HuggingFaceTokenizer tokenizer;
    private final ZooModel<NDList, NDList> model;
    private final Predictor<NDList, NDList> predictor;
    private final Set<String> inputNames;
    private final int dim;

    private EmbeddingEngine(ModelSpec spec, int intraOpThreads) throws IOException, ModelException {
        this.spec = spec;
        // The tokenizer.json files ship with fixed padding to 128 and truncation at 128: replace
        // both, padding per batch to its longest text and truncating at the model's window.
        this.tokenizer = HuggingFaceTokenizer.builder()
                .optTokenizerPath(spec.tokenizer())
                .optAddSpecialTokens(true)
                .optPadding(false)
                .optTruncation(true)
                .optMaxLength(spec.maxTokens())
                .build();
        this.model = Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(spec.onnx())
                .optEngine("OnnxRuntime")
                .optTranslator(new NoopTranslator())
                .optOption("intraOpNumThreads", Integer.toString(intraOpThreads))
                .optOption("interOpNumThreads", "1")
                .build()
                .loadModel();
        this.predictor = model.newPredictor();
        PairList<String, Shape> inputs = model.describeInput();
        this.inputNames = inputs == null
                ? Set.of("input_ids", "attention_mask", "token_type_ids")
                : inputs.stream().map(Pair::getKey).collect(Collectors.toSet());
        this.dim = embed(List.of("dimension probe"))[0].length;
    }

    public static EmbeddingEngine open(ModelSpec spec, int intraOpThreads) {
        try {
            return new EmbeddingEngine(spec, intraOpThreads);
        } catch (IOException | ModelException e) {
            throw new IllegalStateException("cannot load model " + spec.name() + " from " + spec.onnx(), e);
        }
    }

    public ModelSpec spec() {
        return spec;
    }

    @Override
    public String fingerprint() {
        return spec.fingerprint();
    }

    @Override
    public int dimension() {
        return dim;
    }

    /** Tokens the model sees for {@code text}, special tokens included, capped at the window. */
    public int tokenCount(String text) {
        return tokenizer.encode(text).getIds().length;
    }

    /**
     * Embeds a batch: one tokenizer call, one inference padded to the longest text in the batch,
     * pooling over the attention mask and L2 normalisation.
     */
    @Override
    public float[][] embed(List<String> texts) {
        if (texts.isEmpty()) {
            return new float[0][];
        }
        Encoding[] enc = tokenizer.batchEncode(texts);
        int batch = enc.length;
        int seq = 0;
        for (Encoding e : enc) {
            seq = Math.max(seq, e.getIds().length);
        }
        long[] ids = new long[batch * seq];
        long[] mask = new long[batch * seq];
        long[] types = new long[batch * seq];
        for (int i = 0; i < batch; i++) {
            long[] rowIds = enc[i].getIds();
            System.arraycopy(rowIds, 0, ids, i * seq, rowIds.length);
            System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * seq, rowIds.length);
            System.arraycopy(enc[i].getTypeIds(), 0, types, i * seq, rowIds.length);
        }
        try (NDManager manager = model.getNDManager().newSubManager()) {
            Shape shape = new Shape(batch, seq);
            NDList input = new NDList();
            addInput(input, manager, "input_ids", ids, shape);
            addInput(input, manager, "attention_mask", mask, shape);
            addInput(input, manager, "token_type_ids", types, shape);
            NDArray hidden = predictor.predict(input).get(0);
            long[] hs = hidden.getShape().getShape();
            int d = (int) hs[hs.length - 1];
            float[] flat = hidden.toFloatArray();
            float[][] out = new float[batch][];
            long[] rowMask = new long[seq];
            for (int i = 0; i < batch; i++) {
                System.arraycopy(mask, i * seq, rowMask, 0, seq);
                out[i] = spec.pooling().pool(flat, i, seq, d, rowMask);
            }
            return out;
        } catch (TranslateException e) {
            throw new IllegalStateException("inference failed on a batch of " + batch, e);
        }
    }

    private void addInput(NDList input, NDManager manager, String name, long[] data, Shape shape) {
        if (inputNames.contains(name)) {
            NDArray array = manager.create(data, shape);
            array.setName(name);
            input.add(array);
        }
    }

    @Override
    public void close() {
        predictor.close();
        model.close();
        tokenizer.close();
    }
}
