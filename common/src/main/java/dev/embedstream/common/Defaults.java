package dev.embedstream.common;

/**
 * Named defaults shared by the job options and the CLI (which runs without Flink on its classpath,
 * so it cannot read them from {@link EmbedstreamOptions}).
 */
public final class Defaults {

    public static final String KAFKA_BOOTSTRAP = "127.0.0.1:9092";
    public static final String TOPIC_DOCUMENTS = "embedstream.documents";
    public static final String TOPIC_QUERIES = "embedstream.queries";
    public static final String TOPIC_RESPONSES = "embedstream.responses";
    public static final String TOPIC_DLQ = "embedstream.dlq";
    public static final String MILVUS_URI = "http://127.0.0.1:19530";
    public static final String COLLECTION = "embedstream_chunks";
    /** The analyzer of the BM25 keyword index of new collections. */
    public static final String BM25_ANALYZER = "standard";
    public static final String TENANT = "default";
    public static final int TOP_K = 5;
    public static final int MODEL_MAX_TOKENS = 256;
    public static final int CHUNK_MAX_TOKENS = 256;
    public static final int CHUNK_OVERLAP_TOKENS = 32;

    private Defaults() {}
}
