package dev.embedstream.common.cache;

import dev.embedstream.common.Hashing;
import java.util.regex.Pattern;

/**
 * How cache keys see a text. The text is normalised before it is hashed and before it reaches the
 * model: surrounding whitespace is dropped and every run of whitespace becomes one space. For the
 * BERT-style tokenizers of the shipped models this changes no token (they split on whitespace),
 * and because the model always sees the normalised text, a key and its vector agree for any model.
 */
public final class CacheKeys {

    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private CacheKeys() {}

    public static String normalise(String text) {
        return WHITESPACE.matcher(text.strip()).replaceAll(" ");
    }

    /** Hex sha256 of the normalised text. */
    public static String textDigest(String text) {
        return Hashing.sha256Hex(normalise(text));
    }
}
