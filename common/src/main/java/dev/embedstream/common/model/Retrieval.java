package dev.embedstream.common.model;

import java.io.Serializable;
import java.util.Locale;

/**
 * How a query is answered: {@code dense} (the vector leg alone), {@code keyword} (Milvus BM25 over
 * the chunk text alone) or {@code hybrid} (both legs, fused by reciprocal rank or by weighted
 * normalised scores). Its {@link #canonical()} form names everything that changes the answer, so it
 * keys the retrieval cache and the request-id digest; {@link #parse(String)} reads it back.
 *
 * @param k RRF's constant (hybrid with {@code rrf}): a document at rank r in a leg scores 1 / (k + r)
 * @param denseWeight and {@code keywordWeight}: the weights of {@code weighted} fusion, each in
 *     0..1, not both 0
 */
public record Retrieval(Mode mode, Fusion fusion, int k, double denseWeight, double keywordWeight)
        implements Serializable {

    public enum Mode {
        DENSE, HYBRID, KEYWORD;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The mode named {@code label}, or null when there is none. */
        public static Mode of(String label) {
            for (Mode m : values()) {
                if (m.label().equals(label)) {
                    return m;
                }
            }
            return null;
        }
    }

    public enum Fusion { NONE, RRF, WEIGHTED }

    /** RRF's usual constant (Cormack et al.; Milvus' default too). */
    public static final int DEFAULT_K = 60;
    /** The largest RRF constant a query may ask for. */
    public static final int MAX_K = 16_384;

    public static final Retrieval DENSE = new Retrieval(Mode.DENSE, Fusion.NONE, 0, 1, 0);
    public static final Retrieval KEYWORD = new Retrieval(Mode.KEYWORD, Fusion.NONE, 0, 0, 1);
    /** Hybrid without a {@code fusion}: RRF with k = 60. */
    public static final Retrieval HYBRID = rrf(DEFAULT_K);

    public Retrieval {
        if (mode != Mode.HYBRID && fusion != Fusion.NONE || mode == Mode.HYBRID && fusion == Fusion.NONE) {
            throw new IllegalArgumentException("fusion " + fusion + " does not go with mode " + mode);
        }
        if (fusion == Fusion.RRF && (k < 1 || k > MAX_K)) {
            throw new IllegalArgumentException("RRF k must be 1.." + MAX_K + ", got " + k);
        }
        if (fusion == Fusion.WEIGHTED && !(denseWeight >= 0 && denseWeight <= 1 && keywordWeight >= 0
                && keywordWeight <= 1 && denseWeight + keywordWeight > 0)) {
            throw new IllegalArgumentException("weights must be within 0..1 and not both 0, got dense " + denseWeight
                    + ", keyword " + keywordWeight);
        }
    }

    public static Retrieval rrf(int k) {
        return new Retrieval(Mode.HYBRID, Fusion.RRF, k, 0, 0);
    }

    public static Retrieval weighted(double dense, double keyword) {
        return new Retrieval(Mode.HYBRID, Fusion.WEIGHTED, 0, dense, keyword);
    }

    /** The mode's default retrieval: hybrid fuses by RRF with k = 60. */
    public static Retrieval of(Mode mode) {
        return switch (mode) {
            case DENSE -> DENSE;
            case KEYWORD -> KEYWORD;
            case HYBRID -> HYBRID;
        };
    }

    public boolean needsVector() {
        return mode != Mode.KEYWORD;
    }

    public boolean needsKeywordIndex() {
        return mode != Mode.DENSE;
    }

    /**
     * {@code dense}, {@code keyword}, {@code hybrid/rrf/60} or {@code hybrid/weighted/0.7/0.3}:
     * one string per distinct answer (weights printed exactly, so 0.7 and 0.70 are one).
     */
    public String canonical() {
        return switch (fusion) {
            case NONE -> mode.label();
            case RRF -> "hybrid/rrf/" + k;
            case WEIGHTED -> "hybrid/weighted/" + denseWeight + "/" + keywordWeight;
        };
    }

    /** The retrieval whose {@link #canonical()} form is {@code s}. */
    public static Retrieval parse(String s) {
        String[] p = s.split("/");
        Mode mode = Mode.of(p[0]);
        if (mode == null) {
            throw new IllegalArgumentException("unknown retrieval '" + s + "'");
        }
        if (mode != Mode.HYBRID || p.length == 1) {
            return of(mode);
        }
        return p[1].equals("rrf") ? rrf(Integer.parseInt(p[2]))
                : weighted(Double.parseDouble(p[2]), Double.parseDouble(p[3]));
    }
}
