package dev.embedstream.jobs.operators;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import org.apache.flink.connector.base.sink.writer.strategy.RateLimitingStrategy;
import org.apache.flink.connector.base.sink.writer.strategy.RequestInfo;
import org.apache.flink.connector.base.sink.writer.strategy.ResultInfo;

/**
 * How much the Milvus sink writes at once, adapted to how fast Milvus takes it, so that when
 * searches load the server the writes back off and the searches keep a share of it.
 *
 * <p>The sink keeps {@link MilvusSink#MAX_IN_FLIGHT_REQUESTS one request} in flight (a document's
 * changes must reach Milvus in arrival order), so what adapts is the work in flight: the rows of
 * that request, the quantity Flink's own {@code CongestionControlRateLimitingStrategy} adapts
 * (in-flight messages). The limit is a Netflix concurrency-limits {@link Gradient2Limit} in rows,
 * between {@code milvus.write.max-batch-rows} / {@value #MIN_SHARE} and
 * {@code milvus.write.max-batch-rows}, fed each completed write's latency per row, retries
 * included (a write that had to retry is also reported as a drop): when the latency per row rises
 * past its long-term average, the writes shrink; when it falls back, they grow again. Per row,
 * because a bigger write takes longer without Milvus being any busier.
 *
 * <p>Flink calls the strategy on the task's mailbox thread; {@link #onWrite} comes from the
 * writer's own thread, where the write is timed (not the mailbox, which may be busy embedding
 * when a write completes). The limit is thread-safe.
 */
final class AdaptiveWriteLimit implements RateLimitingStrategy {

    /** The smallest write is this share of the largest. */
    static final int MIN_SHARE = 16;

    private final Limit limit;
    private final int maxRows;
    /** Mailbox thread only. */
    private int inFlightRequests;

    /** @param maxRows {@code milvus.write.max-batch-rows}: the largest write, and the first */
    AdaptiveWriteLimit(int maxRows) {
        this.maxRows = maxRows;
        this.limit = Gradient2Limit.newBuilder()
                .initialLimit(maxRows)
                .maxConcurrency(maxRows)
                .minLimit(Math.max(1, maxRows / MIN_SHARE))
                // Growth per good write: back from the smallest to the largest in about a hundred writes.
                .queueSize(Math.max(1, maxRows / MIN_SHARE))
                .build();
    }

    /** A completed write: its entries, how long it took (retries included), whether it retried. */
    void onWrite(int rows, long nanos, boolean retried) {
        if (rows > 0) {
            limit.onSample(0, Math.max(1, nanos / rows), rows, retried);
        }
    }

    /** Rows the next write may carry. */
    int rowsPerWrite() {
        return Math.min(maxRows, limit.getLimit());
    }

    @Override
    public void registerInFlightRequest(RequestInfo request) {
        inFlightRequests++;
    }

    @Override
    public void registerCompletedRequest(ResultInfo result) {
        inFlightRequests--;
    }

    @Override
    public boolean shouldBlock(RequestInfo request) {
        return inFlightRequests >= MilvusSink.MAX_IN_FLIGHT_REQUESTS;
    }

    @Override
    public int getMaxBatchSize() {
        return rowsPerWrite();
    }
}
