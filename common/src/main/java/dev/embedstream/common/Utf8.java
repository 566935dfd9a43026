package dev.embedstream.common;

/**
 * Sizes of strings as they go on the wire, and cuts that respect them without splitting a
 * character: UTF-8 bytes, and bytes inside a JSON string as Jackson writes it. Every budget of the
 * job (text and metadata limits, dead letters, responses) is measured here.
 */
public final class Utf8 {

    private Utf8() {}

    /** UTF-8 length of a string as {@code String.getBytes(UTF_8)} encodes it, without the copy. */
    public static long length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n += 1; // an unpaired surrogate is encoded as '?'
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** A prefix of {@code s} of at most {@code maxBytes} UTF-8 bytes, never splitting a character. */
    public static String prefix(String s, int maxBytes) {
        if (s == null || s.length() * 3L <= maxBytes) {
            return s;
        }
        return prefix(s, maxBytes, false);
    }

    /**
     * The longest prefix of {@code s}, on a code point boundary, whose JSON string form (quotes
     * excluded) takes at most {@code maxBytes}: control characters count 6 ({@code \\uXXXX}; the
     * few with 2-byte escapes are counted as 6 to stay on the safe side), quote and backslash 2,
     * everything else its UTF-8 length.
     */
    public static String jsonPrefix(String s, long maxBytes) {
        return prefix(s, maxBytes, true);
    }

    /** Bytes of {@code s} inside a JSON string, an upper bound of what Jackson writes (quotes excluded). */
    public static long jsonLength(String s) {
        long cost = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            cost += jsonBytes(cp);
            i += Character.charCount(cp);
        }
        return cost;
    }

    private static String prefix(String s, long maxBytes, boolean json) {
        long used = 0;
        int i = 0;
        while (i < s.length()) {
            int cp = s.codePointAt(i);
            used += json ? jsonBytes(cp) : bytes(cp);
            if (used > maxBytes) {
                return s.substring(0, i);
            }
            i += Character.charCount(cp);
        }
        return s;
    }

    private static int jsonBytes(int cp) {
        if (cp == '"' || cp == '\\') {
            return 2;
        }
        return cp < 0x20 ? 6 : bytes(cp);
    }

    private static int bytes(int cp) {
        // A lone surrogate counts 3: String.getBytes writes 1 ('?'), so this stays an upper bound.
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
}
