package dev.embedstream.common.milvus;

import static dev.embedstream.common.EmbedstreamOptions.MILVUS_BM25;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_COLLECTION;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_RPC_TIMEOUT;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_TEXT_ANALYZER;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_TOKEN;
import static dev.embedstream.common.EmbedstreamOptions.MILVUS_URI;

import dev.embedstream.common.Defaults;
import java.io.Serializable;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.configuration.ReadableConfig;

/**
 * How to reach the Milvus collection; small and serializable so operators can build their client
 * in {@code open()}. {@code token} may be null; it is never printed by {@link #toString()}.
 * {@code bm25Analyzer} is the analyzer of the keyword index new collections get, or null for
 * dense-only collections ({@code milvus.bm25.*}).
 */
public record MilvusSettings(String uri, String token, String collection, long rpcTimeoutMs, long connectTimeoutMs,
        String bm25Analyzer) implements Serializable {

    /** The analyzers Milvus has built in. */
    public static final Set<String> ANALYZERS = Set.of("standard", "english", "chinese");

    public MilvusSettings {
        if (bm25Analyzer != null && !ANALYZERS.contains(bm25Analyzer)) {
            // Named by hand: the CLI builds settings without Flink, so EmbedstreamOptions cannot load there.
            throw new IllegalArgumentException("milvus.bm25.analyzer must be one of " + new TreeSet<>(ANALYZERS)
                    + ", got '" + bm25Analyzer + "'");
        }
    }

    /** With the default keyword index (the {@code standard} analyzer). */
    public MilvusSettings(String uri, String token, String collection, long rpcTimeoutMs, long connectTimeoutMs) {
        this(uri, token, collection, rpcTimeoutMs, connectTimeoutMs, Defaults.BM25_ANALYZER);
    }

    /** The {@code milvus.*} connection options; the token falls back to {@code EMBEDSTREAM_MILVUS_TOKEN}. */
    public static MilvusSettings from(ReadableConfig c) {
        String token = c.getOptional(MILVUS_TOKEN).orElse(System.getenv("EMBEDSTREAM_MILVUS_TOKEN"));
        long rpc = c.get(MILVUS_RPC_TIMEOUT).toMillis();
        return new MilvusSettings(c.get(MILVUS_URI), token, c.get(MILVUS_COLLECTION), rpc, rpc,
                c.get(MILVUS_BM25) ? c.get(MILVUS_TEXT_ANALYZER) : null);
    }

    /** The same server and options, for collection (or alias) {@code name}. */
    public MilvusSettings withCollection(String name) {
        return new MilvusSettings(uri, token, name, rpcTimeoutMs, connectTimeoutMs, bm25Analyzer);
    }

    @Override
    public String toString() {
        return "MilvusSettings[uri=" + uri + ", collection=" + collection + ", token=" + (token == null ? "none" : "***")
                + ", rpcTimeoutMs=" + rpcTimeoutMs + ", bm25Analyzer=" + bm25Analyzer + "]";
    }
}
