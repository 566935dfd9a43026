package dev.embedstream.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RetrievalTest {

    @Test
    void everyRetrievalReadsBackFromItsCanonicalFormAndDistinctOnesDiffer() {
        List<Retrieval> all = List.of(Retrieval.DENSE, Retrieval.KEYWORD, Retrieval.HYBRID, Retrieval.rrf(10),
                Retrieval.weighted(0.7, 0.3), Retrieval.weighted(0.3, 0.7));
        for (Retrieval r : all) {
            assertThat(Retrieval.parse(r.canonical())).isEqualTo(r);
        }
        assertThat(all.stream().map(Retrieval::canonical)).doesNotHaveDuplicates();
        assertThat(Retrieval.DENSE.canonical()).as("a dense query's digest and cache key predate modes").isEqualTo("dense");
        assertThat(Retrieval.weighted(0.70, 0.3).canonical()).isEqualTo(Retrieval.weighted(0.7, 0.30).canonical());
    }

    @Test
    void fusionGoesWithHybridOnlyAndWithinItsRange() {
        assertThatThrownBy(() -> new Retrieval(Retrieval.Mode.DENSE, Retrieval.Fusion.RRF, 60, 0, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Retrieval.rrf(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Retrieval.weighted(0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Retrieval.weighted(Double.NaN, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Retrieval.parse("semantic")).isInstanceOf(IllegalArgumentException.class);
    }
}
