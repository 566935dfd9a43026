package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class BackfillProgressTest {

    private static final TopicPartition P0 = new TopicPartition("docs", 0);
    private static final TopicPartition P1 = new TopicPartition("docs", 1);

    @Test
    void replayedCountsEachPartitionFromItsBeginning() {
        var p = new BackfillProgress(Map.of(P0, 10L, P1, 0L), Map.of(P0, 110L, P1, 50L), Map.of(P0, 60L, P1, 50L));
        assertThat(p.total()).isEqualTo(150);
        assertThat(p.replayed()).isEqualTo(100);
        assertThat(p.lag()).isEqualTo(50);
        assertThat(p.caughtUp()).isFalse();
    }

    @Test
    void aPartitionWithoutCommitsIsAllLag() {
        var p = new BackfillProgress(Map.of(P0, 0L, P1, 0L), Map.of(P0, 30L, P1, 20L), Map.of(P0, 30L));
        assertThat(p.replayed()).isEqualTo(30);
        assertThat(p.lag()).isEqualTo(20);
        assertThat(p.caughtUp()).isFalse();
    }

    @Test
    void anEmptyPartitionIsCaughtUpBeforeAnyCommit() {
        var p = new BackfillProgress(Map.of(P0, 5L, P1, 0L), Map.of(P0, 5L, P1, 20L), Map.of(P1, 20L));
        assertThat(p.total()).isEqualTo(20);
        assertThat(p.caughtUp()).isTrue();
    }

    @Test
    void documentsArrivingAfterTheStartDoNotMoveTheFinishLine() {
        // the group is past the ends read at the start: live documents, not more to replay
        var p = new BackfillProgress(Map.of(P0, 0L), Map.of(P0, 100L), Map.of(P0, 180L));
        assertThat(p.replayed()).isEqualTo(100);
        assertThat(p.lag()).isZero();
        assertThat(p.caughtUp()).isTrue();
    }

    @Test
    void aCommitBelowACompactedBeginningCountsAsNothingReplayed() {
        var p = new BackfillProgress(Map.of(P0, 40L), Map.of(P0, 100L), Map.of(P0, 10L));
        assertThat(p.total()).isEqualTo(60);
        assertThat(p.replayed()).isZero();
        assertThat(p.lag()).isEqualTo(60);
    }

    @Test
    void aFreshGroupOnANonEmptyTopicIsNotCaughtUp() {
        var p = new BackfillProgress(Map.of(P0, 0L, P1, 0L), Map.of(P0, 1L, P1, 0L), Map.of());
        assertThat(p.caughtUp()).isFalse();
        assertThat(p.lag()).isEqualTo(1);
    }
}
