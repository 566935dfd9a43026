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
    void theSummaryAveragesOverQueries() {
        RankingMetrics.Summary s = new RankingMetrics.Summary();
        assertThat(s.mrr()).isZero();
        s.add(List.of("a", "b"), Set.of("a"));      // rr 1, recall 1
        s.add(List.of("x", "y", "b"), Set.of("b", "c")); // rr 1/3, recall 1/2
        s.add(List.of("x"), Set.of("q"));         // rr 0, recall 0
        assertThat(s.queries()).isEqualTo(3);
        assertThat(s.mrr()).isCloseTo((1 + 1 / 3.0) / 3, within(1e-12));
        assertThat(s.recall()).isCloseTo(1.5 / 3, within(1e-12));
    }
}
