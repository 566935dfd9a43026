package dev.embedstream.jobs.operators;

import static dev.embedstream.common.EmbedstreamOptions.MILVUS_WRITE_BATCH_BYTES;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_WRITE_BATCH_ROWS;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_WRITE_FLUSH_INTERVAL;

import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.jobs.settings.CacheSettings;
import dev.embedstream.jobs.settings.KafkaSettings;
import dev.embedstream.jobs.settings.LimitSettings;
import dev.embedstream.jobs.settings.MilvusWriteSettings;
import dev.embedstream.jobs.types.ChunkTask;
import java.io.Serializable;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.connector.base.sink.AsyncSinkBase;
import org.apache.flink.connector.base.sink.AsyncSinkBaseBuilder;
import org.apache.flink.connector.base.sink.writer.BufferedRequestState;
import org.apache.flink.connector.base.sink.writer.ElementConverter;
import org.apache.flink.connector.base.sink.writer.config.AsyncSinkWriterConfiguration;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Writes embedded chunks and document deletes to the Milvus collection (see {@link MilvusSinkWriter}).
 * Built with {@link #builder()}; {@link Builder#withOptions} hands it the settings groups it uses
 * and applies the job's {@code milvus.write.*} options.
 */
public final class MilvusSink extends AsyncSinkBase<ChunkTask, MilvusSinkEntry> {

    // A builder without withOptions(...) gets the options' defaults: each default has one home.
    public static final int DEFAULT_MAX_BATCH_ROWS = MILVUS_WRITE_BATCH_ROWS.defaultValue();
    public static final long DEFAULT_MAX_BATCH_BYTES = MILVUS_WRITE_BATCH_BYTES.defaultValue().getBytes();
    public static final long DEFAULT_FLUSH_INTERVAL_MS = MILVUS_WRITE_FLUSH_INTERVAL.defaultValue().toMillis();
    /** The buffer holds this many batches before {@code write} waits (back-pressure). */
    public static final int DEFAULT_BUFFERED_BATCHES = 4;
    /**
     * One request at a time: a document's deletes and upserts must reach Milvus in arrival order,
     * and two batches in flight could overtake each other.
     */
    public static final int MAX_IN_FLIGHT_REQUESTS = 1;
    /** How long a batch retries transient failures (Milvus down) before the job fails. */
    public static final Duration DEFAULT_MAX_RETRY_TIME = Duration.ofSeconds(60);
    /**
     * A request still running after this fails the job. Far above the retry time: it is a guard
     * against a hung client, never the normal end of a request (and a timed-out request is never
     * re-queued behind the writer's back, which could reorder a document's changes).
     */
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofMinutes(10);

    /**
     * The settings groups the sink uses: where to write (Milvus), how ({@code milvus.write.*}),
     * Redis for the collection epochs it bumps (caches), Kafka and the dead-letter cap for the
     * documents Milvus refuses.
     */
    record Groups(MilvusSettings milvus, MilvusWriteSettings write, CacheSettings cache, KafkaSettings kafka,
            LimitSettings limits, Binding binding) implements Serializable {}

    /**
     * Which collection behind the alias {@code milvus.collection} the sink writes: the one of
     * {@code space}; {@code serving} for the serving job (creates the alias, refuses a fresh start
     * when it serves another space), not for a migration's backfill job.
     */
    record Binding(VectorSpace space, boolean serving) implements Serializable {}

    private final Groups groups;
    private final MilvusSinkClient.Factory clientFactory;
    private final long maxRetryMs;

    private MilvusSink(Groups groups, MilvusSinkClient.Factory clientFactory, int maxBatchSize,
            int maxBufferedRequests, long maxBatchBytes, long flushIntervalMs, long maxRetryMs, long requestTimeoutMs) {
        super(converter(), maxBatchSize, MAX_IN_FLIGHT_REQUESTS, maxBufferedRequests, maxBatchBytes, flushIntervalMs,
                maxBatchBytes, requestTimeoutMs, true);
        this.groups = groups;
        this.clientFactory = clientFactory;
        this.maxRetryMs = maxRetryMs;
    }

    private static ElementConverter<ChunkTask, MilvusSinkEntry> converter() {
        return (task, context) -> MilvusSinkEntry.of(task);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public StatefulSinkWriter<ChunkTask, BufferedRequestState<MilvusSinkEntry>> createWriter(WriterInitContext context) {
        return restoreWriter(context, List.of());
    }

    @Override
    public StatefulSinkWriter<ChunkTask, BufferedRequestState<MilvusSinkEntry>> restoreWriter(
            WriterInitContext context, Collection<BufferedRequestState<MilvusSinkEntry>> recoveredState) {
        AdaptiveWriteLimit limit = new AdaptiveWriteLimit(getMaxBatchSize());
        AsyncSinkWriterConfiguration config = AsyncSinkWriterConfiguration.builder()
                .setMaxBatchSize(getMaxBatchSize())
                .setMaxBatchSizeInBytes(getMaxBatchSizeInBytes())
                .setMaxInFlightRequests(getMaxInFlightRequests())
                .setMaxBufferedRequests(getMaxBufferedRequests())
                .setMaxTimeInBufferMS(getMaxTimeInBufferMS())
                .setMaxRecordSizeInBytes(getMaxRecordSizeInBytes())
                .setRequestTimeoutMS(getRequestTimeoutMS())
                .setFailOnTimeout(getFailOnTimeout())
                .setRateLimitingStrategy(limit)
                .build();
        return new MilvusSinkWriter(getElementConverter(), context, config, recoveredState, groups, clientFactory,
                maxRetryMs, limit);
    }

    @Override
    public SimpleVersionedSerializer<BufferedRequestState<MilvusSinkEntry>> getWriterStateSerializer() {
        return new MilvusSinkStateSerializer();
    }

    /** Builds a {@link MilvusSink}; {@link #build()} checks every value. */
    public static final class Builder extends AsyncSinkBaseBuilder<ChunkTask, MilvusSinkEntry, Builder> {

        private Groups groups;
        private MilvusSinkClient.Factory clientFactory = MilvusSinkClient::milvus;
        private Duration maxRetryTime = DEFAULT_MAX_RETRY_TIME;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;

        private Builder() {}

        /**
         * The settings groups the sink uses, and the job's {@code milvus.write.max-batch-rows/-bytes}
         * and {@code flush-interval} as its batch options.
         */
        public Builder withOptions(MilvusSettings milvus, MilvusWriteSettings write, CacheSettings cache, KafkaSettings kafka,
            LimitSettings limits) {
            this.groups = new Groups(milvus, write, cache, kafka, limits, groups == null ? null : groups.binding());
            return setMaxBatchSize(write.batchRows())
                    .setMaxBatchSizeInBytes(write.batchBytes())
                    .setMaxTimeInBufferMS(write.flushIntervalMs());
        }

        /**
         * Writes into the collection of {@code space} behind the alias (see {@link Binding});
         * without it the sink writes {@code milvus.collection} itself. Call after withOptions.
         */
        public Builder withVectorSpace(VectorSpace space, boolean serving) {
            require(groups != null, "withOptions first");
            this.groups = new Groups(groups.milvus(), groups.write(), groups.cache(), groups.kafka(), groups.limits(),
                    new Binding(space, serving));
            return this;
        }

        /** The Milvus client the writer builds when it starts (tests inject one that refuses rows). */
        public Builder setClientFactory(MilvusSinkClient.Factory clientFactory) {
            this.clientFactory = clientFactory;
            return this;
        }

        public Builder setMaxRetryTime(Duration maxRetryTime) {
            this.maxRetryTime = maxRetryTime;
            return this;
        }

        public Builder setRequestTimeout(Duration requestTimeout) {
            this.requestTimeout = requestTimeout;
            return this;
        }

        @Override
        public MilvusSink build() {
            require(groups != null, "the Milvus sink needs the job settings (withOptions)");
            require(clientFactory != null, "the Milvus sink needs a client factory");
            int rows = getMaxBatchSize() == null ? DEFAULT_MAX_BATCH_ROWS : getMaxBatchSize();
            long bytes = getMaxBatchSizeInBytes() == null ? DEFAULT_MAX_BATCH_BYTES : getMaxBatchSizeInBytes();
            long interval = getMaxTimeInBufferMS() == null ? DEFAULT_FLUSH_INTERVAL_MS : getMaxTimeInBufferMS();
            int buffered = getMaxBufferedRequests() == null ? rows * DEFAULT_BUFFERED_BATCHES : getMaxBufferedRequests();
            require(rows >= 1, MILVUS_WRITE_BATCH_ROWS.key() + " must be >= 1");
            require(bytes >= 1024, MILVUS_WRITE_BATCH_BYTES.key() + " must be >= 1kb");
            require(interval >= 1, MILVUS_WRITE_FLUSH_INTERVAL.key() + " must be positive");
            require(buffered > rows, "the sink must buffer more entries than one batch holds");
            require(getMaxInFlightRequests() == null || getMaxInFlightRequests() == MAX_IN_FLIGHT_REQUESTS,
                    "the Milvus sink keeps one request in flight (a document's changes apply in arrival order)");
            require(getMaxRecordSizeInBytes() == null,
                    "an entry is never too large for the Milvus sink: it counts at most one batch's bytes");
            require(maxRetryTime != null && !maxRetryTime.isNegative() && !maxRetryTime.isZero(),
                    "the retry time must be positive");
            require(requestTimeout != null && requestTimeout.compareTo(maxRetryTime.multipliedBy(2)) >= 0,
                    "the request timeout must be at least twice the retry time");
            return new MilvusSink(groups, clientFactory, rows, buffered, bytes, interval, maxRetryTime.toMillis(),
                    requestTimeout.toMillis());
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
