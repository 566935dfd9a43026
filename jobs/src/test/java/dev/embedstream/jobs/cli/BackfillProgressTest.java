package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BackfillProgressTest {

    private static final TopicPartition P0 = new TopicPartition("docs", 0);
    private static final TopicPartition P1 = new TopicPartition("docs", 1);

    /** All four readings at once, so each case pins the whole progress and not only what it is about. */
    private static void assertProgress(BackfillProgress p, long total, long replayed, long lag, boolean caughtUp) {
        assertThat(List.<Object>of(p.total(), p.replayed(), p.lag(), p.caughtUp())).as("total, replayed, lag, caught up")
                .containsExactly(total, replayed, lag, caughtUp);
    }

    @Test
    void replayedCountsEachPartitionFromItsBeginning() {
        var p = new BackfillProgress(Map.of(P0, 10L, P1, 0L), Map.of(P0, 110L, P1, 50L), Map.of(P0, 60L, P1, 50L));
        assertProgress(p, 150, 100, 50, false);
    }

    @Test
    void aPartitionWithoutCommitsIsAllLag() {
        var p = new BackfillProgress(Map.of(P0, 0L, P1, 0L), Map.of(P0, 30L, P1, 20L), Map.of(P0, 30L));
        assertProgress(p, 50, 30, 20, false);
    }

    @Test
    void anEmptyPartitionIsCaughtUpBeforeAnyCommit() {
        var p = new BackfillProgress(Map.of(P0, 5L, P1, 0L), Map.of(P0, 5L, P1, 20L), Map.of(P1, 20L));
        assertProgress(p, 20, 20, 0, true);
    }

    @Test
    void documentsArrivingAfterTheStartDoNotMoveTheFinishLine() {
        // the group is past the ends read at the start: live documents, not more to replay
        var p = new BackfillProgress(Map.of(P0, 0L), Map.of(P0, 100L), Map.of(P0, 180L));
        assertProgress(p, 100, 100, 0, true);
    }

    @Test
    void aCommitBelowACompactedBeginningCountsAsNothingReplayed() {
        var p = new BackfillProgress(Map.of(P0, 40L), Map.of(P0, 100L), Map.of(P0, 10L));
        assertProgress(p, 60, 0, 60, false);
    }

    @Test
    void aFreshGroupOnANonEmptyTopicIsNotCaughtUp() {
        var p = new BackfillProgress(Map.of(P0, 0L, P1, 0L), Map.of(P0, 1L, P1, 0L), Map.of());
        assertProgress(p, 1, 0, 1, false);
    }
}
