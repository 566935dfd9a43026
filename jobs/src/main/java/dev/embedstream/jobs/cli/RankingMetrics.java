package dev.embedstream.jobs.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Retrieval quality of one ranked answer against the documents a person marked relevant: the
 * figures {@code migrate --eval} gates the swap on and {@code eval} prints per mode. A document
 * counts once however many of its chunks rank (the search already returns one hit per document,
 * but a ranked list with repeats must not score twice).
 */
final class RankingMetrics {

    /** The cut-off of every figure: the top 10, as in MRR@10, recall@10 and nDCG@10. */
    static final int K = 10;

    private RankingMetrics() {}

    /** The first {@code k} distinct documents of {@code ranked}, in order: a repeat is not a new rank. */
    private static List<String> top(List<String> ranked, int k) {
        Set<String> distinct = new LinkedHashSet<>();
        for (String id : ranked) {
            if (distinct.size() == k) {
                break;
            }
            distinct.add(id);
        }
        return new ArrayList<>(distinct);
    }

    /** 1 / rank of the first relevant document within the top {@code k}, else 0. */
    static double reciprocalRank(List<String> ranked, Collection<String> relevant, int k) {
        List<String> top = top(ranked, k);
        for (int i = 0; i < top.size(); i++) {
            if (relevant.contains(top.get(i))) {
                return 1.0 / (i + 1);
            }
        }
        return 0;
    }

    /** The share of the relevant documents found within the top {@code k}; 0 when none is relevant. */
    static double recall(List<String> ranked, Collection<String> relevant, int k) {
        Set<String> wanted = Set.copyOf(relevant);
        if (wanted.isEmpty()) {
            return 0;
        }
        return (double) top(ranked, k).stream().filter(wanted::contains).count() / wanted.size();
    }

    /**
     * Normalised discounted cumulative gain with binary relevance: the sum over the top {@code k}
     * of 1 / log2(rank + 1) for each relevant document, divided by the same sum for the best
     * possible list (every relevant document first, at most {@code k} of them). Unlike MRR it
     * rewards finding all relevant documents of a query, and finding them early; 0 when none is
     * relevant.
     */
    static double ndcg(List<String> ranked, Collection<String> relevant, int k) {
        Set<String> wanted = Set.copyOf(relevant);
        List<String> top = top(ranked, k);
        double dcg = 0;
        for (int i = 0; i < top.size(); i++) {
            if (wanted.contains(top.get(i))) {
                dcg += discount(i + 1);
            }
        }
        double ideal = 0;
        for (int rank = 1; rank <= Math.min(wanted.size(), k); rank++) {
            ideal += discount(rank);
        }
        return ideal == 0 ? 0 : dcg / ideal;
    }

    private static double discount(int rank) {
        return 1 / (Math.log(rank + 1) / Math.log(2));
    }

    /** Means over queries of one collection (or one mode). */
    static final class Summary {
        private double rrSum;
        private double recallSum;
        private double ndcgSum;
        private int queries;

        void add(List<String> ranked, Collection<String> relevant) {
            rrSum += RankingMetrics.reciprocalRank(ranked, relevant, K);
            recallSum += RankingMetrics.recall(ranked, relevant, K);
            ndcgSum += RankingMetrics.ndcg(ranked, relevant, K);
            queries++;
        }

        int queries() {
            return queries;
        }

        /** MRR@10; 0 for no query. */
        double mrr() {
            return queries == 0 ? 0 : rrSum / queries;
        }

        /** Mean recall@10; 0 for no query. */
        double recall() {
            return queries == 0 ? 0 : recallSum / queries;
        }

        /** Mean nDCG@10; 0 for no query. */
        double ndcg() {
            return queries == 0 ? 0 : ndcgSum / queries;
        }
    }
}
