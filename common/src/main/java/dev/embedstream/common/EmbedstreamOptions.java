package dev.embedstream.common;

import static org.apache.flink.configuration.ConfigOptions.key;

import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.validation.DocumentLimits;
import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.MemorySize;

/**
 * Every setting of the job, in one place. Keys are given as {@code --key value} arguments or in
 * the Flink configuration; docs/configuration.md lists them all.
 */
public final class EmbedstreamOptions {

    private EmbedstreamOptions() {}

    // --- Kafka ---------------------------------------------------------------------------------
    public static final ConfigOption<String> KAFKA_BOOTSTRAP = key("kafka.bootstrap-servers")
            .stringType().defaultValue(Defaults.KAFKA_BOOTSTRAP)
            .withDescription("Kafka bootstrap servers");
    public static final ConfigOption<String> KAFKA_GROUP_ID = key("kafka.group-id")
            .stringType().defaultValue("embedstream")
            .withDescription("consumer group of both sources (offsets committed on checkpoints)");
    public static final ConfigOption<String> TOPIC_DOCUMENTS = key("topic.documents")
            .stringType().defaultValue(Defaults.TOPIC_DOCUMENTS).withDescription("document events");
    public static final ConfigOption<String> TOPIC_QUERIES = key("topic.queries")
            .stringType().defaultValue(Defaults.TOPIC_QUERIES).withDescription("queries");
    public static final ConfigOption<String> TOPIC_RESPONSES = key("topic.responses")
            .stringType().defaultValue(Defaults.TOPIC_RESPONSES).withDescription("responses, key = request_id");
    public static final ConfigOption<String> TOPIC_DLQ = key("topic.dlq")
            .stringType().defaultValue(Defaults.TOPIC_DLQ).withDescription("dead letters");

    // --- Milvus --------------------------------------------------------------------------------
    public static final ConfigOption<String> MILVUS_URI = key("milvus.uri")
            .stringType().defaultValue(Defaults.MILVUS_URI).withDescription("Milvus endpoint; `https://` talks TLS");
    public static final ConfigOption<String> MILVUS_TOKEN = key("milvus.token")
            .stringType().noDefaultValue()
            .withDescription("Milvus token (`user:password` or API key)");
    public static final ConfigOption<String> MILVUS_COLLECTION = key("milvus.collection")
            .stringType().defaultValue(Defaults.COLLECTION)
            .withDescription("the Milvus alias queries search; it points at one collection per vector space, named "
                    + "`<alias>__<model>__<8 hex>` and created if missing (see Changing the model)");
    public static final ConfigOption<Duration> MILVUS_ALIAS_REFRESH = key("milvus.alias-refresh")
            .durationType().defaultValue(Duration.ofSeconds(1))
            .withDescription("how often the query path reads which collection the alias serves; a query sent more "
                    + "than twice this after a swap follows it: it is routed only by a read that began at most twice "
                    + "this before it was sent, and waits for one (up to `milvus.rpc-timeout`, or is answered "
                    + "`search_failed` when Milvus cannot be read) rather than guess");
    public static final ConfigOption<String> JOB_ROLE = key("job.role")
            .stringType().defaultValue("serve")
            .withDescription("`serve`: documents into the model's collection and queries by the alias; `backfill`: "
                    + "documents only (a migration's second job, `embedstream migrate`), never touching the alias");
    public static final ConfigOption<Duration> MILVUS_RPC_TIMEOUT = key("milvus.rpc-timeout")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("deadline of every Milvus call");
    public static final ConfigOption<Boolean> MILVUS_BM25 = key("milvus.bm25.enabled")
            .booleanType().defaultValue(true)
            .withDescription("create new collections with a keyword index: `text` analyzed, a Milvus `BM25` function "
                    + "into a `sparse` field with a SPARSE_INVERTED_INDEX; `false`, or a server without BM25 functions, "
                    + "creates them dense-only and `hybrid`/`keyword` queries are answered `mode_unsupported`");
    public static final ConfigOption<String> MILVUS_TEXT_ANALYZER = key("milvus.bm25.analyzer")
            .stringType().defaultValue(Defaults.BM25_ANALYZER)
            .withDescription("the Milvus built-in analyzer of `text` for BM25: `standard` (lowercased words), "
                    + "`english` (also stemmed, stop words dropped) or `chinese`");
    public static final ConfigOption<String> MILVUS_SEARCH_DEFAULT_MODE = key("milvus.search.default-mode")
            .stringType().defaultValue("hybrid")
            .withDescription("the `mode` of a query that names none: `hybrid` (RRF, k = 60; chosen by `scripts/embedstream "
                    + "eval` on the labelled sample set, see docs/benchmarks.md), `dense` or `keyword`. On a collection "
                    + "without a keyword index such a query is answered dense; one that names hybrid or keyword gets "
                    + "`mode_unsupported`");
    public static final ConfigOption<Integer> MILVUS_WRITE_BATCH_ROWS = key("milvus.write.max-batch-rows")
            .intType().defaultValue(256).withDescription("rows a sink subtask buffers before writing");
    public static final ConfigOption<MemorySize> MILVUS_WRITE_BATCH_BYTES = key("milvus.write.max-batch-bytes")
            .memoryType().defaultValue(MemorySize.parse("8mb"))
            .withDescription("estimated bytes (texts, metadata, vectors) a sink subtask buffers before it writes; "
                    + "keeps each insert well under Milvus' 64 MB gRPC message limit");
    public static final ConfigOption<Duration> MILVUS_WRITE_FLUSH_INTERVAL = key("milvus.write.flush-interval")
            .durationType().defaultValue(Duration.ofMillis(200))
            .withDescription("longest a row waits in the sink buffer (also flushed on every checkpoint)");

    public static final ConfigOption<Duration> MILVUS_WRITE_SEAL_INTERVAL = key("milvus.write.seal-interval")
            .durationType().defaultValue(Duration.ofSeconds(5))
            .withDescription("after writes, seal (flush) the collection at most this often so new rows are indexed; "
                    + "`0` leaves it to Milvus (see below)");

    // --- Model ---------------------------------------------------------------------------------
    public static final ConfigOption<String> MODEL_NAME = key("model.name")
            .stringType().defaultValue(ModelCatalog.DEFAULT_MODEL)
            .withDescription("model name (table above) or a directory with `model.onnx` + `tokenizer.json`");
    public static final ConfigOption<Pooling> MODEL_POOLING = key("model.pooling")
            .enumType(Pooling.class).defaultValue(Pooling.MEAN)
            .withDescription("pooling of a directory model (`MEAN` or `CLS`)");
    public static final ConfigOption<Integer> MODEL_MAX_TOKENS = key("model.max-tokens")
            .intType().defaultValue(Defaults.MODEL_MAX_TOKENS).withDescription("model window; longer texts are chunked (documents) or truncated (queries)");
    public static final ConfigOption<String> MODEL_CACHE_DIR = key("model.cache-dir")
            .stringType().defaultValue(System.getProperty("java.io.tmpdir") + "/embedstream-models")
            .withDescription("where named models are extracted");
    public static final ConfigOption<Integer> MODEL_THREADS = key("model.intra-op-threads")
            .intType().defaultValue(1)
            .withDescription("ONNX Runtime threads per subtask (parallelism 2 x 1 thread = the 2 cores)");

    // --- Chunking, batching, limits ------------------------------------------------------------
    public static final ConfigOption<Integer> CHUNK_MAX_TOKENS = key("chunk.max-tokens")
            .intType().defaultValue(Defaults.CHUNK_MAX_TOKENS).withDescription("chunk window in tokens, special tokens included");
    public static final ConfigOption<Integer> CHUNK_OVERLAP_TOKENS = key("chunk.overlap-tokens")
            .intType().defaultValue(Defaults.CHUNK_OVERLAP_TOKENS).withDescription("tokens shared by consecutive chunks");
    public static final ConfigOption<Integer> BATCH_MAX_SIZE = key("batch.max-size")
            .intType().defaultValue(64).withDescription("most texts per inference");
    public static final ConfigOption<BatchStrategy> BATCH_STRATEGY = key("batch.strategy")
            .enumType(BatchStrategy.class).defaultValue(BatchStrategy.ADAPTIVE)
            .withDescription("`ADAPTIVE`: a batch is filled by deficit round robin across the tenants waiting, "
                    + "each adding its oldest chunk and its neighbours in length, up to a padded-token target fitted "
                    + "to measured cost; `FIXED`: arrival order, `batch.max-size` at a time (the benchmark's "
                    + "baseline; with `batch.max-size` 1, per-record inference)");
    public static final ConfigOption<Integer> BATCH_MAX_TOKENS = key("batch.max-tokens")
            .intType().defaultValue(8192)
            .withDescription("upper bound of the adaptive padded-token target (rows x longest) of a document batch");
    public static final ConfigOption<Duration> BATCH_LATENCY_TARGET = key("batch.latency-target")
            .durationType().defaultValue(Duration.ofMillis(200))
            .withDescription("longest one document batch should run; caps the adaptive target, so a query waits at "
                    + "most about this behind documents");
    public static final ConfigOption<Duration> BATCH_DOC_MAX_WAIT = key("batch.documents.max-wait")
            .durationType().defaultValue(Duration.ofMillis(50))
            .withDescription("longest a chunk waits for its batch while the lane keeps up (a chunk of a tenant over "
                    + "its `quota.documents.*` waits for its quota, and one of a backlog for its tenant's turns)");
    public static final ConfigOption<Duration> BATCH_QUERY_MAX_WAIT = key("batch.queries.max-wait")
            .durationType().defaultValue(Duration.ofMillis(5))
            .withDescription("longest a query waits for its batch");
    public static final ConfigOption<Integer> BATCH_DOC_NICE = key("batch.documents.nice")
            .intType().defaultValue(10)
            .withDescription("nice value (Linux scheduling priority, 0-19) of the document embedding threads, so "
                    + "queries, Milvus and Kafka get the cores first when documents saturate them; 0 leaves it "
                    + "alone");
    public static final ConfigOption<Integer> BATCH_MAX_BUFFERED = key("batch.max-buffered")
            .intType().defaultValue(20_000)
            .withDescription("most chunks in the document lane; at the limit each new chunk runs a batch first, "
                    + "whatever the tenants' quotas (backpressure). Large, so the lane can hold one tenant's backlog "
                    + "and schedule it fairly; the lane is kept in operator state, so it costs no model work at a "
                    + "checkpoint barrier");
    public static final ConfigOption<MemorySize> BATCH_MAX_BUFFERED_BYTES = key("batch.max-buffered-bytes")
            .memoryType().defaultValue(MemorySize.parse("64mb"))
            .withDescription("most text and metadata (UTF-16 bytes in memory) in the document lane; at the limit each "
                    + "new chunk runs a batch first, as at `batch.max-buffered` (a chunk is at most 256 tokens, "
                    + "but a token can stand for a long run of characters)");
    public static final ConfigOption<Integer> LIMITS_MAX_TEXT_BYTES = key("limits.max-text-bytes")
            .intType().defaultValue(DocumentLimits.DEFAULT_MAX_TEXT_BYTES)
            .withDescription("largest accepted text (UTF-8 bytes)");
    public static final ConfigOption<Integer> LIMITS_MAX_METADATA_BYTES = key("limits.max-metadata-bytes")
            .intType().defaultValue(DocumentLimits.DEFAULT_MAX_METADATA_BYTES)
            .withDescription("largest document metadata as compact JSON (UTF-8 bytes); must stay below Milvus' 64 KiB "
                    + "JSON field limit");
    public static final ConfigOption<Integer> LIMITS_MAX_METADATA_KEYS = key("limits.max-metadata-keys")
            .intType().defaultValue(DocumentLimits.DEFAULT_MAX_METADATA_KEYS)
            .withDescription("most keys in a document's metadata");
    public static final ConfigOption<Integer> LIMITS_MAX_METADATA_VALUE_BYTES = key("limits.max-metadata-value-bytes")
            .intType().defaultValue(DocumentLimits.DEFAULT_MAX_METADATA_VALUE_BYTES)
            .withDescription("longest metadata string value (UTF-8 bytes)");
    public static final ConfigOption<Integer> CHUNK_MAX_PER_DOCUMENT = key("chunk.max-per-document")
            .intType().defaultValue(512)
            .withDescription("most chunks one document may make; a longer document is a dead letter `too_many_chunks`");
    public static final ConfigOption<Integer> DLQ_MAX_PAYLOAD_BYTES = key("dlq.max-payload-bytes")
            .intType().defaultValue(64 * 1024)
            .withDescription("most bytes of the failed record a dead letter carries (as escaped JSON or base64, 1 "
                    + "KiB..512 KiB); a longer payload is cut and keeps its length and sha256");

    // --- Queries -------------------------------------------------------------------------------
    public static final ConfigOption<Integer> QUERY_DEFAULT_TOP_K = key("query.default-top-k")
            .intType().defaultValue(Defaults.TOP_K).withDescription("`top_k` when a query gives none");
    public static final ConfigOption<Duration> QUERY_TIMEOUT = key("query.search-timeout")
            .durationType().defaultValue(Duration.ofSeconds(5))
            .withDescription("Milvus search budget per query; past it the answer is an `error`");
    public static final ConfigOption<Integer> QUERY_MAX_IN_FLIGHT = key("query.max-in-flight")
            .intType().defaultValue(64).withDescription("queries per subtask inside the search operator (searching or "
                    + "waiting for a search permit); also the most concurrent Milvus searches the adaptive limit may "
                    + "reach (it starts at 8 or this, whichever is less, and follows the measured search latency)");
    public static final ConfigOption<Duration> QUERY_MAX_LATENCY = key("query.max-latency")
            .durationType().defaultValue(Duration.ofSeconds(10))
            .withDescription("latency budget of a query without `deadline_ms`: its effective deadline is its Kafka "
                    + "timestamp + this (a query with `deadline_ms` has that one; interactive clients should send "
                    + "one, or this be lowered to what they wait). A query that has already waited "
                    + "past it when it enters, or whose expected wait for a Milvus search passes it, is answered at "
                    + "once `error` / `overloaded`, never late");
    public static final ConfigOption<Boolean> QUERY_FAST_PATH = key("query.fast-path.enabled")
            .booleanType().defaultValue(true)
            .withDescription("answer a query whose answer is in this TaskManager's retrieval cache (L1, fresh epoch) in "
                    + "the first query operator, chained to the source, with no network exchange (needs the retrieval "
                    + "cache and Redis)");
    public static final ConfigOption<MemorySize> QUERY_FAST_PATH_REMEMBERED = key("query.fast-path.remembered-bytes")
            .memoryType().defaultValue(MemorySize.parse("16mb"))
            .withDescription("heap per subtask for the (tenant, `request_id`)s the fast path remembers for "
                    + "`dedup.query-ttl` with their query's digest (about 250 bytes each, up to ~900 with the longest "
                    + "ids), to answer a different query under a used request id `request_id_conflict`; past it the "
                    + "least recently seen is forgotten");

    // --- Overload control: per-tenant quotas ---------------------------------------------------
    public static final ConfigOption<Double> QUOTA_QUERIES_PER_SECOND = key("quota.queries.per-second")
            .doubleType().defaultValue(0.0)
            .withDescription("queries a tenant may send per second (its burst: one second's worth, at least 1); past it "
                    + "a query is answered at once `error` / `rate_limited` with `retry_after_ms`. Split evenly over "
                    + "the query subtasks. 0 = no limit");
    public static final ConfigOption<java.util.Map<String, String>> QUOTA_QUERIES_TENANTS = key("quota.queries.tenants")
            .mapType().defaultValue(java.util.Map.of())
            .withDescription("per-tenant overrides of `quota.queries.per-second`, `tenant:rate,tenant:rate` "
                    + "(for example `gold:500,trial:2`; 0 = no limit for that tenant)");
    public static final ConfigOption<Double> QUOTA_DOCUMENT_TOKENS_PER_SECOND = key("quota.documents.tokens-per-second")
            .doubleType().defaultValue(0.0)
            .withDescription("model tokens of documents a tenant may have embedded per second (burst: one second's "
                    + "worth). A tenant past it is slowed, never refused: its chunks wait in the document lane "
                    + "(in operator state) while other tenants' go first. Split evenly over the subtasks. 0 = no limit");
    public static final ConfigOption<java.util.Map<String, String>> QUOTA_DOCUMENTS_TENANTS = key("quota.documents.tenants")
            .mapType().defaultValue(java.util.Map.of())
            .withDescription("per-tenant overrides of `quota.documents.tokens-per-second`, `tenant:rate,tenant:rate`");
    public static final ConfigOption<Integer> QUOTA_MAX_TENANTS = key("quota.max-tenants")
            .intType().defaultValue(10_000)
            .withDescription("token buckets kept per subtask and kind; past it the least recently seen tenant's "
                    + "bucket is dropped (it starts full again when the tenant returns)");

    // --- State ---------------------------------------------------------------------------------
    public static final ConfigOption<Duration> DEDUP_TTL = key("dedup.ttl")
            .durationType().defaultValue(Duration.ofDays(7))
            .withDescription("how long a document's content hash is remembered");
    public static final ConfigOption<Duration> DEDUP_QUERY_TTL = key("dedup.query-ttl")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("a query whose (tenant, `request_id`) is seen again within this time is not computed "
                    + "twice: the same query (text, `top_k`, filter) gets the first answer again, a different "
                    + "one `request_id_conflict`; answers stay in keyed state this long (see "
                    + "`dedup.reply-max-bytes`)");
    public static final ConfigOption<Integer> MAX_PARALLELISM = key("job.max-parallelism")
            .intType().defaultValue(128)
            .withDescription("max parallelism of every operator (key groups of keyed state): the most a savepoint can "
                    + "be rescaled to; fixed from the first run, changing it breaks restores");
    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = key("checkpoint.interval")
            .durationType().defaultValue(Duration.ofSeconds(10)).withDescription("checkpoint interval (at-least-once barriers)");

    // --- Redis ---------------------------------------------------------------------------------
    public static final ConfigOption<String> REDIS_URI = key("redis.uri")
            .stringType().noDefaultValue()
            .withDescription("Redis URI of the caches (`redis://host:port`, `rediss://` for TLS); unset = in-process "
                    + "embedding cache only, no answer cache. A password may sit in the URI "
                    + "(`redis://:password@host:port`) but is then shown wherever Flink shows configuration: "
                    + "use `redis.password`");
    public static final ConfigOption<String> REDIS_PASSWORD = key("redis.password")
            .stringType().noDefaultValue()
            .withDescription("Redis AUTH password, or `EMBEDSTREAM_REDIS_PASSWORD`; prefer it to a password in "
                    + "`redis.uri`, because Flink masks this key's value (like `milvus.token` and "
                    + "`kafka.properties.sasl.jaas.config`) in its logs and web UI");
    public static final ConfigOption<Duration> REDIS_TIMEOUT = key("redis.timeout")
            .durationType().defaultValue(Duration.ofMillis(100))
            .withDescription("deadline of every Redis command; slower counts as a miss and trips the breaker");
    public static final ConfigOption<Duration> CACHE_EMBEDDING_TTL = key("cache.embedding.ttl")
            .durationType().defaultValue(Duration.ofDays(7))
            .withDescription("how long a cached vector lives in Redis");
    public static final ConfigOption<MemorySize> CACHE_EMBEDDING_L1_SIZE = key("cache.embedding.l1-size")
            .memoryType().defaultValue(MemorySize.parse("64mb"))
            .withDescription("bound of the in-process (L1) embedding cache of each TaskManager, shared by its subtasks "
                    + "(about 1.9 KB per 384-dimension vector, so ~35,000 vectors); `0` = no L1");
    public static final ConfigOption<Boolean> CACHE_RETRIEVAL_ENABLED = key("cache.retrieval.enabled")
            .booleanType().defaultValue(true)
            .withDescription("cache query answers (only with `redis.uri`: the collection epochs live in Redis)");
    public static final ConfigOption<Duration> CACHE_RETRIEVAL_TTL = key("cache.retrieval.ttl")
            .durationType().defaultValue(Duration.ofMinutes(10))
            .withDescription("how long a cached answer lives, in Redis and in the in-process L1 and semantic caches");
    public static final ConfigOption<Duration> CACHE_RETRIEVAL_EPOCH_REFRESH = key("cache.retrieval.epoch-refresh")
            .durationType().defaultValue(Duration.ofMillis(500))
            .withDescription("how long a tenant's collection epoch read from Redis is trusted: no cached answer is "
                    + "older than the last committed write plus this");
    public static final ConfigOption<MemorySize> CACHE_RETRIEVAL_L1_SIZE = key("cache.retrieval.l1-size")
            .memoryType().defaultValue(MemorySize.parse("32mb"))
            .withDescription("bound of the in-process (L1) answer cache of each TaskManager; `0` = answers only in "
                    + "Redis");
    public static final ConfigOption<Boolean> CACHE_SEMANTIC_ENABLED = key("cache.semantic.enabled")
            .booleanType().defaultValue(false)
            .withDescription("reuse the answer of an earlier query of the same tenant, epoch, `top_k` and filter whose "
                    + "embedding is within `cache.semantic.threshold` (needs the retrieval cache)");
    public static final ConfigOption<Double> CACHE_SEMANTIC_THRESHOLD = key("cache.semantic.threshold")
            .doubleType().defaultValue(0.95)
            .withDescription("least cosine between two query embeddings for the semantic cache to reuse an answer");
    public static final ConfigOption<MemorySize> CACHE_SEMANTIC_SIZE = key("cache.semantic.size")
            .memoryType().defaultValue(MemorySize.parse("64mb"))
            .withDescription("bound of the in-process semantic cache of each TaskManager");

    // --- Responses and the reply cache (issue 12) -------------------------------------------
    public static final ConfigOption<MemorySize> RESPONSE_MAX_BYTES = key("response.max-bytes")
            .memoryType().defaultValue(MemorySize.parse("512kb"))
            .withDescription("most UTF-8 bytes of one response's JSON, 4 KiB to 900 KiB (well under Kafka's 1 MiB "
                    + "`max.request.size`); a larger answer is cut: hit texts (largest first), then texts and "
                    + "metadata values together, then all metadata, then hits from the end, and says "
                    + "`\"truncated\": true`");
    public static final ConfigOption<MemorySize> DEDUP_REPLY_MAX_BYTES = key("dedup.reply-max-bytes")
            .memoryType().defaultValue(MemorySize.parse("16kb"))
            .withDescription("most bytes of JSON (before deflate) kept per answer in the reply cache to re-send to a "
                    + "repeated request id, 4 KiB to `response.max-bytes`; a re-sent answer cut to it says "
                    + "`\"truncated\": true`");
}
