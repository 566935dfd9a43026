package dev.embedstream.common.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits documents into overlapping token windows with the model's own tokenizer, so every chunk
 * fits the model. Needs only the tokenizer, not the model.
 */
public final class TextChunker implements AutoCloseable {

    /** A window of the text and the number of model tokens it takes, special tokens included. */
    public record Chunk(String text, int tokens) {}

    private final HuggingFaceTokenizer chunkTokenizer;
    private final int windowTokens;
    private final int overlapTokens;

    public TextChunker(ModelSpec spec, int windowTokens, int overlapTokens) {
        if (windowTokens < 8 || overlapTokens < 0 || overlapTokens >= windowTokens - 2) {
            throw new IllegalArgumentException("chunk window " + windowTokens + " / overlap " + overlapTokens
                    + ": need window >= 8 and 0 <= overlap < window - 2");
        }
        this.windowTokens = Math.min(windowTokens, spec.maxTokens());
        this.overlapTokens = overlapTokens;
        try {
            this.chunkTokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(spec.tokenizer())
                    .optAddSpecialTokens(false)
                    .optPadding(false)
                    .optTruncation(false)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer " + spec.tokenizer(), e);
        }
    }

    /**
     * Splits text into windows of at most the window size in model tokens (special tokens
     * included) that overlap by the overlap size. A text that fits is one chunk: itself.
     */
    public List<Chunk> chunk(String text) {
        int content = windowTokens - 2; // room for [CLS] and [SEP]
        Encoding enc = chunkTokenizer.encode(text, false, false);
        CharSpan[] spans = enc.getCharTokenSpans();
        int n = spans.length;
        if (n <= content) {
            return List.of(new Chunk(text, n + 2));
        }
        // Windows start and end on word boundaries, so a chunk re-tokenizes to the same tokens.
        long[] words = enc.getWordIds();
        int[] utf16 = codePointToUtf16(text);
        List<Chunk> chunks = new ArrayList<>();
        int start = 0;
        while (true) {
            int end = Math.min(start + content, n);
            if (end < n) {
                int e = end;
                while (e > start + 1 && words[e] == words[e - 1]) {
                    e--;
                }
                if (e > start + 1) {
                    end = e;
                }
            }
            chunks.add(new Chunk(
                    text.substring(utf16[spans[start].getStart()], utf16[spans[end - 1].getEnd()]), end - start + 2));
            if (end == n) {
                return chunks;
            }
            int next = Math.max(start + 1, end - overlapTokens);
            while (next < end && words[next] == words[next - 1]) {
                next++;
            }
            start = next;
        }
    }

    /** Token spans count code points; Java strings index UTF-16 units (an emoji is two). */
    private static int[] codePointToUtf16(String text) {
        int[] map = new int[text.codePointCount(0, text.length()) + 1];
        int cp = 0;
        for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) {
            map[cp++] = i;
        }
        map[cp] = text.length();
        return map;
    }

    @Override
    public void close() {
        chunkTokenizer.close();
    }
}
