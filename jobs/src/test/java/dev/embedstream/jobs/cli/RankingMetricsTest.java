package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RankingMetricsTest {

    @Test
    void reciprocalRankIsOneOverTheRankOfTheFirstRelevantDocument() {
        assertThat(RankingMetrics.reciprocalRank(List.of("a", "b", "c"), Set.of("c", "b"), 10)).isEqualTo(0.5);
        assertThat(RankingMetrics.reciprocalRank(List.of("a", "b", "c"), Set.of("a"), 10)).isEqualTo(1.0);
        assertThat(RankingMetrics.reciprocalRank(List.of("a", "b", "c"), Set.of("z"), 10)).isZero();
    }

    @Test
    void aRelevantDocumentBeyondTheCutOffScoresNothing() {
        List<String> ranked = new ArrayList<>();
        for (int i = 1; i <= 11; i++) {
            ranked.add("d" + i);
        }
        assertThat(RankingMetrics.reciprocalRank(ranked, Set.of("d11"), 10)).isZero();
        assertThat(RankingMetrics.reciprocalRank(ranked, Set.of("d10"), 10)).isEqualTo(0.1);
        assertThat(RankingMetrics.recall(ranked, Set.of("d10", "d11"), 10)).isEqualTo(0.5);
    }

    @Test
    void aRepeatedDocumentTakesNoRankAndCountsOnce() {
        List<String> ranked = List.of("a", "a", "a", "b");
        assertThat(RankingMetrics.reciprocalRank(ranked, Set.of("b"), 10)).isEqualTo(0.5);
        assertThat(RankingMetrics.recall(List.of("b", "b"), Set.of("b", "c"), 10)).isEqualTo(0.5);
        // repeats do not push a relevant document out of the top k either
        assertThat(RankingMetrics.recall(List.of("a", "a", "b"), Set.of("b"), 2)).isEqualTo(1.0);
    }

    @Test
    void recallIsTheShareOfRelevantDocumentsFound() {
        assertThat(RankingMetrics.recall(List.of("a", "x", "b"), Set.of("a", "b", "c", "d"), 10)).isEqualTo(0.5);
        assertThat(RankingMetrics.recall(List.of(), Set.of("a"), 10)).isZero();
        assertThat(RankingMetrics.recall(List.of("a"), Set.of(), 10)).isZero();
    }

    @Test
    void ndcgDiscountsEachRelevantDocumentByTheLogOfItsRankAgainstTheIdealOrder() {
        // relevant at ranks 2 and 4 of 2 relevant: (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)
        //   = (0.630930 + 0.430677) / 1.630930 = 0.650920
        assertThat(RankingMetrics.ndcg(List.of("x", "a", "y", "b"), Set.of("a", "b"), 10)).isCloseTo(0.650920, within(1e-6));
        // one relevant at rank 3: (1/log2 4) / 1 = 0.5
        assertThat(RankingMetrics.ndcg(List.of("x", "y", "a"), Set.of("a"), 10)).isEqualTo(0.5);
        // the ideal order scores 1; nothing relevant found scores 0, and so does nothing relevant
        assertThat(RankingMetrics.ndcg(List.of("a", "b", "x"), Set.of("a", "b"), 10)).isCloseTo(1.0, within(1e-12));
        assertThat(RankingMetrics.ndcg(List.of("x", "y"), Set.of("a"), 10)).isZero();
        assertThat(RankingMetrics.ndcg(List.of("a"), Set.of(), 10)).isZero();
    }

    @Test
    void ndcgIdealCountsAtMostKRelevantDocumentsAndIgnoresRepeatsAndRanksBeyondK() {
        // 3 relevant, k = 2, found at ranks 1 and 2: the ideal is the best 2 ranks, so 1.0
        assertThat(RankingMetrics.ndcg(List.of("a", "b", "c"), Set.of("a", "b", "c"), 2)).isCloseTo(1.0, within(1e-12));
        // repeats take no rank: "b" is at rank 2, so (1/log2 3) / (1 + 1/log2 3) = 0.386853
        assertThat(RankingMetrics.ndcg(List.of("x", "x", "b"), Set.of("b", "c"), 10)).isCloseTo(0.386853, within(1e-6));
        // a relevant document at rank 3 of a top 2 scores nothing
        assertThat(RankingMetrics.ndcg(List.of("x", "y", "a"), Set.of("a"), 2)).isZero();
    }

    @Test
    void theSummaryAveragesOverQueries() {
        RankingMetrics.Summary s = new RankingMetrics.Summary();
        assertThat(s.mrr()).isZero();
        s.add(List.of("a", "b"), Set.of("a"));      // rr 1, recall 1
        s.add(List.of("x", "y", "b"), Set.of("b", "c")); // rr 1/3, recall 1/2
        s.add(List.of("x"), Set.of("q"));         // rr 0, recall 0
        assertThat(s.queries()).isEqualTo(3);
        assertThat(s.mrr()).isCloseTo((1 + 1 / 3.0) / 3, within(1e-12));
        assertThat(s.recall()).isCloseTo(1.5 / 3, within(1e-12));
        // ndcg 1, (1/log2 4) / (1 + 1/log2 3) = 0.5 / 1.630930 = 0.306574, 0
        assertThat(s.ndcg()).isCloseTo((1 + 0.306574) / 3, within(1e-6));
    }
}
