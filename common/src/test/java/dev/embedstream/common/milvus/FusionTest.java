package dev.embedstream.common.milvus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Retrieval;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hybrid fusion against scores computed by hand. */
class FusionTest {

    private static Hit hit(String doc, int chunk, double score) {
        return new Hit(doc, chunk, score, doc + "#" + chunk, Map.of());
    }

    // dense: a, b, c; keyword: c, d, a
    private static final List<Hit> DENSE = List.of(hit("a", 0, 0.9), hit("b", 1, 0.8), hit("c", 2, 0.5));
    private static final List<Hit> KEYWORD = List.of(hit("c", 5, 12.0), hit("d", 0, 7.5), hit("a", 3, 1.0));

    @Test
    void rrfScoresAreTheSumOfOneOverKPlusRankOverTheLegsThatFoundTheDocument() {
        List<Hit> fused = Fusion.fuse(Retrieval.rrf(60), DENSE, KEYWORD, 10);
        // a: 1/61 + 1/63 = 0.032266; c: 1/63 + 1/61 = 0.032266 (a wins the tie: best rank 1 in the dense leg,
        // which comes first); b: 1/62 = 0.016129; d: 1/62 = 0.016129
        assertThat(fused).extracting(Hit::docId).containsExactly("a", "c", "b", "d");
        assertThat(fused.get(0).score()).isCloseTo(1.0 / 61 + 1.0 / 63, within(1e-12));
        assertThat(fused.get(1).score()).isCloseTo(1.0 / 63 + 1.0 / 61, within(1e-12));
        assertThat(fused.get(2).score()).isCloseTo(1.0 / 62, within(1e-12));
        assertThat(fused.get(3).score()).isCloseTo(1.0 / 62, within(1e-12));
        assertThat(fused.get(0).ranks()).isEqualTo(Map.of("dense", 1, "keyword", 3));
        assertThat(fused.get(1).ranks()).isEqualTo(Map.of("dense", 3, "keyword", 1));
        assertThat(fused.get(3).ranks()).isEqualTo(Map.of("keyword", 2));
    }

    @Test
    void aSmallKRewardsTheTopOfEachLegMore() {
        List<Hit> fused = Fusion.fuse(Retrieval.rrf(1), List.of(hit("a", 0, 0.9), hit("b", 0, 0.8)),
                List.of(hit("b", 0, 3.0), hit("c", 0, 2.0)), 3);
        // a: 1/2 = 0.5; b: 1/3 + 1/2 = 0.8333; c: 1/3
        assertThat(fused).extracting(Hit::docId).containsExactly("b", "a", "c");
        assertThat(fused.get(0).score()).isCloseTo(1.0 / 3 + 1.0 / 2, within(1e-12));
    }

    @Test
    void weightedFusionMapsCosineAndBm25IntoZeroToOneAsMilvusDoes() {
        List<Hit> fused = Fusion.fuse(Retrieval.weighted(0.7, 0.3), DENSE, KEYWORD, 10);
        double a = 0.7 * (1 + 0.9) / 2 + 0.3 * 2 * Math.atan(1.0) / Math.PI; // 0.665 + 0.3 x 0.5 = 0.815
        double b = 0.7 * (1 + 0.8) / 2; // 0.630
        double c = 0.7 * (1 + 0.5) / 2 + 0.3 * 2 * Math.atan(12.0) / Math.PI; // 0.525 + 0.2841 = 0.8091
        double d = 0.3 * 2 * Math.atan(7.5) / Math.PI; // 0.2747
        assertThat(fused).extracting(Hit::docId).containsExactly("a", "c", "b", "d");
        assertThat(fused).extracting(Hit::score).containsExactly(a, c, b, d);
    }

    @Test
    void aHitIsOneDocumentWithTheChunkOfTheLegThatRankedItBestAndAtMostTopK() {
        List<Hit> fused = Fusion.fuse(Retrieval.HYBRID, DENSE, KEYWORD, 2);
        assertThat(fused).hasSize(2);
        assertThat(fused.get(0).chunk()).as("a: dense rank 1 beats keyword rank 3").isZero();
        assertThat(fused.get(1).chunk()).as("c: keyword rank 1 beats dense rank 3").isEqualTo(5);
        assertThat(Fusion.fuse(Retrieval.HYBRID, List.of(), List.of(), 5)).isEmpty();
    }
}
