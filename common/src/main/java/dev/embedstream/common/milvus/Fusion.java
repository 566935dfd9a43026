package dev.embedstream.common.milvus;

import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Retrieval;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuses a hybrid query's two legs, each a list of documents best first (one hit per document, its
 * best chunk), into one list of at most {@code topK} documents. Fusing documents, not chunks, keeps
 * the answer one hit per document and gives each hit its rank in each leg.
 *
 * <ul>
 *   <li>{@code rrf}: score = sum over the legs that found the document of 1 / (k + rank), rank 1 =
 *       best (Cormack, Clarke and Buettcher 2009; Milvus' RRFRanker uses the same formula).
 *   <li>{@code weighted}: score = dense weight x (1 + cosine) / 2 + keyword weight x 2 atan(bm25) / pi,
 *       each leg's score mapped into 0..1 as Milvus' WeightedRanker maps COSINE and BM25 scores; a
 *       leg that did not find the document adds 0.
 * </ul>
 * Ties go to the document with the better best rank, then to the dense leg's order. A hit carries
 * the chunk of the leg that ranked it best (the dense leg's on a tie).
 */
public final class Fusion {

    public static final String DENSE = "dense";
    public static final String KEYWORD = "keyword";

    private Fusion() {}

    /** How many documents each leg of a hybrid query fetches for {@code topK} answers. */
    public static int depth(int topK) {
        return Math.min(Math.max(2 * topK, 20), 200);
    }

    public static List<Hit> fuse(Retrieval how, List<Hit> dense, List<Hit> keyword, int topK) {
        Map<String, Fused> docs = new LinkedHashMap<>();
        add(docs, DENSE, dense);
        add(docs, KEYWORD, keyword);
        List<Fused> ranked = new ArrayList<>(docs.values());
        for (Fused f : ranked) {
            f.score = score(how, f);
        }
        ranked.sort(Comparator.comparingDouble((Fused f) -> -f.score).thenComparingInt(Fused::bestRank));
        List<Hit> out = new ArrayList<>(Math.min(topK, ranked.size()));
        for (Fused f : ranked.subList(0, Math.min(topK, ranked.size()))) {
            Hit chunk = f.chunk;
            out.add(new Hit(chunk.docId(), chunk.chunk(), f.score, chunk.text(), chunk.metadata(), Map.copyOf(f.ranks)));
        }
        return out;
    }

    private static void add(Map<String, Fused> docs, String leg, List<Hit> hits) {
        for (int i = 0; i < hits.size(); i++) {
            Hit h = hits.get(i);
            Fused f = docs.computeIfAbsent(h.docId(), id -> new Fused());
            int rank = i + 1;
            if (f.chunk == null || rank < f.bestRank()) {
                f.chunk = h;
            }
            f.ranks.put(leg, rank);
            f.scores.put(leg, h.score());
        }
    }

    private static double score(Retrieval how, Fused f) {
        double score = 0;
        for (Map.Entry<String, Integer> e : f.ranks.entrySet()) {
            boolean dense = e.getKey().equals(DENSE);
            double raw = f.scores.get(e.getKey());
            score += switch (how.fusion()) {
                case RRF -> 1.0 / (how.k() + e.getValue());
                case WEIGHTED -> dense ? how.denseWeight() * (1 + raw) / 2
                        : how.keywordWeight() * 2 * Math.atan(raw) / Math.PI;
                case NONE -> throw new IllegalArgumentException(how.canonical() + " has no fusion");
            };
        }
        return score;
    }

    /** A document as the legs found it. */
    private static final class Fused {
        final Map<String, Integer> ranks = new LinkedHashMap<>(2);
        final Map<String, Double> scores = new HashMap<>(2);
        Hit chunk;
        double score;

        int bestRank() {
            return ranks.values().stream().mapToInt(Integer::intValue).min().orElse(Integer.MAX_VALUE);
        }
    }
}
