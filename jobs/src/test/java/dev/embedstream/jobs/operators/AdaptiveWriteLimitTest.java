package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.apache.flink.connector.base.sink.writer.strategy.BasicRequestInfo;
import org.apache.flink.connector.base.sink.writer.strategy.BasicResultInfo;
import org.junit.jupiter.api.Test;

/** The Milvus sink's adaptive write size, fed write latencies as the writer thread measures them. */
class AdaptiveWriteLimitTest {

    private static final int MAX_ROWS = 256;

    /** Writes as big as allowed, each taking {@code microsPerRow} per row. */
    private static void writes(AdaptiveWriteLimit limit, int count, long microsPerRow) {
        for (int i = 0; i < count; i++) {
            int rows = limit.rowsPerWrite();
            limit.onWrite(rows, TimeUnit.MICROSECONDS.toNanos(microsPerRow * rows), false);
        }
    }

    @Test
    void writesShrinkWhenMilvusSlowsDownAndGrowBackWhenItRecovers() {
        AdaptiveWriteLimit limit = new AdaptiveWriteLimit(MAX_ROWS);
        writes(limit, 200, 100);
        assertThat(limit.rowsPerWrite()).as("steady latency: full writes").isEqualTo(MAX_ROWS);

        writes(limit, 20, 1_000); // searches load Milvus: ten times the latency per row
        int shrunk = limit.rowsPerWrite();
        assertThat(shrunk).isLessThan(MAX_ROWS / 2).isGreaterThanOrEqualTo(MAX_ROWS / AdaptiveWriteLimit.MIN_SHARE);

        writes(limit, 400, 100);
        assertThat(limit.rowsPerWrite()).as("latency back to normal: writes grow back").isEqualTo(MAX_ROWS);
    }

    @Test
    void smallWritesDoNotMoveTheLimit() {
        AdaptiveWriteLimit limit = new AdaptiveWriteLimit(MAX_ROWS);
        for (int i = 0; i < 50; i++) { // a trickle of documents: slow per row, but far below the limit
            limit.onWrite(3, TimeUnit.MILLISECONDS.toNanos(30), false);
        }
        assertThat(limit.rowsPerWrite()).isEqualTo(MAX_ROWS);
    }

    @Test
    void oneRequestIsInFlightAtATimeSoADocumentsChangesStayInOrder() {
        AdaptiveWriteLimit limit = new AdaptiveWriteLimit(MAX_ROWS);
        assertThat(limit.shouldBlock(new BasicRequestInfo(10))).isFalse();
        limit.registerInFlightRequest(new BasicRequestInfo(10));
        assertThat(limit.shouldBlock(new BasicRequestInfo(10))).isTrue();
        limit.registerCompletedRequest(new BasicResultInfo(0, 10));
        assertThat(limit.shouldBlock(new BasicRequestInfo(10))).isFalse();
        assertThat(limit.getMaxBatchSize()).isEqualTo(MAX_ROWS);
    }
}
