package dev.embedstream.jobs.cli;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Retrieval quality of one ranked answer against the documents a person marked relevant: the
 * figures {@code migrate --eval} prints per collection and gates the swap on. A document counts
 * once however many of its chunks rank (the search already returns one hit per document, but a
 * ranked list with repeats must not score twice).
 */
final class RankingMetrics {

    /** The cut-off of both figures: the top 10, as in MRR@10 and recall@10. */
    static final int K = 10;

    private RankingMetrics() {}

    /** 1 / rank of the first relevant document within the top {@code k}, else 0. */
    static double reciprocalRank(List<String> ranked, Collection<String> relevant, int k) {
        Set<String> seen = new HashSet<>();
        int rank = 0;
        for (String id : ranked) {
            if (!seen.add(id)) {
                continue; // a repeat is not a new rank
            }
            rank++;
            if (rank > k) {
                break;
            }
            if (relevant.contains(id)) {
                return 1.0 / rank;
            }
        }
        return 0;
    }

    /** The share of the relevant documents found within the top {@code k}; 0 when none is relevant. */
    static double recall(List<String> ranked, Collection<String> relevant, int k) {
        Set<String> wanted = new HashSet<>(relevant);
        if (wanted.isEmpty()) {
            return 0;
        }
        Set<String> seen = new HashSet<>();
        int found = 0;
        for (String id : ranked) {
            if (!seen.add(id)) {
                continue;
            }
            if (seen.size() > k) {
                break;
            }
            if (wanted.contains(id)) {
                found++;
            }
        }
        return (double) found / wanted.size();
    }

    /** Means over queries of one collection. */
    static final class Summary {
        private double rrSum;
        private double recallSum;
        private int queries;

        void add(List<String> ranked, Collection<String> relevant) {
            rrSum += RankingMetrics.reciprocalRank(ranked, relevant, K);
            recallSum += RankingMetrics.recall(ranked, relevant, K);
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
    }
}
