package dev.embedstream.jobs.types;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.model.Retrieval;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What makes two queries the same question: their digest and their cache identity. */
class QueryTaskTest {

    private static QueryTask asked(String retrieval, boolean named) {
        return new QueryTask("q-1", "rotate logs", 5, "acme", "{}", 0, -1, 0, null, null, null, null, retrieval, named);
    }

    @Test
    void aQueryNamingNoModeKeepsTheDigestOfVersionsBeforeModesWhateverTheDefault() {
        String before = Hashing.sha256Hex("{\"mode\":\"dense\",\"text\":\"rotate logs\",\"top_k\":5,\"filter\":{}}");
        assertThat(asked("hybrid/rrf/60", false).digest()).isEqualTo(before);
        assertThat(asked("dense", false).digest()).isEqualTo(before);
    }

    @Test
    void aNamedModeOrFusionIsAnotherQueryThanTheDefaultAndThanEachOther() {
        List<String> digests = List.of(asked("hybrid/rrf/60", false).digest(), asked("hybrid/rrf/60", true).digest(),
                asked("hybrid/rrf/10", true).digest(), asked("hybrid/weighted/0.7/0.3", true).digest(),
                asked("keyword", true).digest(), asked("dense", true).digest());
        assertThat(digests).doesNotHaveDuplicates();
    }

    @Test
    void defaultAndNamedAnswersAreCachedApartExceptDenseWhichIsTheSameEverywhere() {
        assertThat(asked("hybrid/rrf/60", false).cachedAs()).isNotEqualTo(asked("hybrid/rrf/60", true).cachedAs());
        assertThat(asked("dense", false).cachedAs()).isEqualTo(asked("dense", true).cachedAs()).isEqualTo("dense");
    }

    @Test
    void aQueryRestoredFromStateOfAVersionBeforeModesIsDense() {
        QueryTask restored = asked(null, false);
        assertThat(restored.retrievalMode()).isEqualTo(Retrieval.DENSE);
        assertThat(restored.modeAsked()).isTrue();
    }
}
