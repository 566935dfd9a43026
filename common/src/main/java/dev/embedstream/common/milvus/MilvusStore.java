package dev.embedstream.common.milvus;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.embedstream.common.filter.FilterCompiler;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Hit;
import io.milvus.common.clientenum.FunctionType;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.client.RetryConfig;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
import io.milvus.v2.service.collection.request.AddFieldReq;
import io.milvus.v2.service.collection.request.AlterCollectionPropertiesReq;
import io.milvus.v2.service.collection.request.DropCollectionReq;
import io.milvus.v2.service.collection.request.RenameCollectionReq;
import io.milvus.v2.service.utility.request.AlterAliasReq;
import io.milvus.v2.service.utility.request.CreateAliasReq;
import io.milvus.v2.service.utility.request.DescribeAliasReq;
import io.milvus.v2.service.utility.request.ListAliasesReq;
import io.milvus.v2.service.collection.request.CreateCollectionReq;
import io.milvus.v2.service.collection.request.DescribeCollectionReq;
import io.milvus.v2.service.collection.request.HasCollectionReq;
import io.milvus.v2.service.collection.request.LoadCollectionReq;
import io.milvus.v2.service.collection.response.DescribeCollectionResp;
import io.milvus.v2.service.utility.request.FlushReq;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.milvus.v2.service.vector.request.QueryReq;
import io.milvus.v2.service.vector.request.SearchReq;
import io.milvus.v2.service.vector.request.UpsertReq;
import io.milvus.v2.service.vector.request.data.BaseVector;
import io.milvus.v2.service.vector.request.data.EmbeddedText;
import io.milvus.v2.service.vector.request.data.FloatVec;
import io.milvus.v2.service.vector.response.QueryResp;
import io.milvus.v2.service.vector.response.SearchResp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chunk collection in Milvus: created on first use, written by idempotent upserts keyed by
 * chunk id, searched per tenant. Every call has a deadline ({@code rpcTimeoutMs}).
 */
public final class MilvusStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MilvusStore.class);

    public static final int MAX_ID_LENGTH = 600;
    /**
     * gRPC servers reject keepalive pings more frequent than every 5 minutes by default (Milvus
     * Lite's Python server answers GOAWAY "too_many_pings" and drops in-flight calls).
     */
    static final long KEEPALIVE_MS = 300_000;
    public static final int MAX_TEXT_LENGTH = 65535;
    /** The field a Milvus BM25 function fills from {@code text}, where the server has them. */
    public static final String SPARSE_FIELD = "sparse";
    static final String BM25_FUNCTION = "text_bm25";
    /** Hits are one per document, so fetch more chunks than asked and keep each document's best. */
    static final int CHUNK_OVERSAMPLE = 4;
    /**
     * The collection property that names the id scheme of its rows ({@link ChunkRow#ID_SCHEME}).
     * A property, not the description: Milvus Lite 3.2 drops descriptions but keeps properties.
     */
    public static final String ID_SCHEME_PROPERTY = "embedstream.id_scheme";
    /** What an unstamped collection holds: rows of the versions before ids named the tenant. */
    public static final String UNSTAMPED_ID_SCHEME = "doc-index-v1 (unstamped: chunk_id = <doc_id>#<index>)";

    private static final List<String> HIT_FIELDS = List.of("doc_id", "chunk_index", "text", "metadata");

    private final MilvusSettings settings;
    private final MilvusClientV2 client;

    public MilvusStore(MilvusSettings settings) {
        this.settings = settings;
        ConnectConfig.ConnectConfigBuilder config = ConnectConfig.builder()
                .uri(settings.uri())
                .connectTimeoutMs(settings.connectTimeoutMs())
                .rpcDeadlineMs(settings.rpcTimeoutMs())
                .keepAliveTimeMs(KEEPALIVE_MS);
        if (settings.token() != null && !settings.token().isEmpty()) {
            config.token(settings.token());
        }
        this.client = new MilvusClientV2(config.build());
        // The SDK retries an unreachable server up to 75 times by default, backing off up to 3 s
        // each time (minutes in all): bound every call, retries included, by the rpc timeout.
        RetryConfig retry = RetryConfig.builder().build();
        retry.setMaxRetryTimeoutMs(settings.rpcTimeoutMs());
        this.client.retryConfig(retry);
    }

    private MilvusStore(MilvusSettings settings, MilvusClientV2 client) {
        this.settings = settings;
        this.client = client;
    }

    /**
     * This store's connection, working on collection {@code name}: closing either closes the
     * connection, so keep one of the two (the writer swaps the alias' store for its collection's).
     */
    public MilvusStore withCollection(String name) {
        return new MilvusStore(settings.withCollection(name), client);
    }

    /** Loads a collection (after a Milvus restart it is there but not loaded). */
    public void load(String collection) {
        client.loadCollection(LoadCollectionReq.builder().collectionName(collection).build());
    }

    public String collection() {
        return settings.collection();
    }

    /** What an existing collection says about itself: the id scheme of its rows and its vector dimension. */
    public record CollectionFacts(String collection, String idScheme, int dimension) {

        public boolean currentIdScheme() {
            return ChunkRow.ID_SCHEME.equals(idScheme);
        }

        /** Why this version cannot write into the collection, and how to migrate. */
        public String idSchemeRefusal() {
            return "Milvus collection '" + collection + "' holds rows of id scheme '" + idScheme + "', but this version"
                    + " writes chunk ids of scheme '" + ChunkRow.ID_SCHEME + "' (<tenant>:<doc_id>#<index>); writing into it"
                    + " would duplicate every chunk instead of replacing it. To migrate: set milvus.collection to a new"
                    + " name and replay the documents topic from the earliest offset (it is compacted: start the job"
                    + " without its savepoint and with a new kafka.group-id), then drop the old collection.";
        }
    }

    /** The collection's id scheme and dimension, or empty when it does not exist (yet). */
    public Optional<CollectionFacts> describe() {
        return describe(settings.collection());
    }

    /** As {@link #describe()}, of the named collection. */
    public Optional<CollectionFacts> describe(String name) {
        if (!client.hasCollection(HasCollectionReq.builder().collectionName(name).build())) {
            return Optional.empty();
        }
        DescribeCollectionResp d = client.describeCollection(DescribeCollectionReq.builder().collectionName(name).build());
        Map<String, String> props = d.getProperties() == null ? Map.of() : d.getProperties();
        var vector = d.getCollectionSchema().getField("vector");
        return Optional.of(new CollectionFacts(name, props.getOrDefault(ID_SCHEME_PROPERTY, UNSTAMPED_ID_SCHEME),
                vector == null || vector.getDimension() == null ? 0 : vector.getDimension()));
    }

    /**
     * Throws {@link IllegalStateException} with the migration steps when the collection exists and
     * holds rows of another id scheme; a missing collection is fine (it will be created stamped).
     */
    public void requireCurrentIdScheme() {
        describe().filter(f -> !f.currentIdScheme()).ifPresent(f -> {
            throw new IllegalStateException(f.idSchemeRefusal());
        });
    }

    /**
     * Creates the collection, stamped with {@link ChunkRow#ID_SCHEME}, with its index if it is
     * missing, and loads it. Sink subtasks race to create it: losing the race is fine.
     */
    public void ensureCollection(int dimension) {
        ensureCollection(settings.collection(), dimension, Map.of());
    }

    /** Creates collection {@code name}, stamped with {@code space}, if it is missing, and loads it. */
    public void ensureCollection(String name, VectorSpace space) {
        ensureCollection(name, space.dimension(), Map.of(VectorSpace.PROPERTY, space.json()));
    }

    private void ensureCollection(String name, int dimension, Map<String, String> stamps) {
        if (!client.hasCollection(HasCollectionReq.builder().collectionName(name).build())) {
            Map<String, String> properties = new LinkedHashMap<>(stamps);
            properties.put(ID_SCHEME_PROPERTY, ChunkRow.ID_SCHEME);
            String analyzer = settings.bm25Analyzer();
            try {
                create(name, dimension, properties, analyzer);
            } catch (RuntimeException e) {
                if (!createdMeanwhile(name)) {
                    if (analyzer == null || !refusesBm25(e)) {
                        throw e;
                    }
                    // A server without BM25 functions (Milvus before 2.5): dense-only, and said so.
                    LOG.warn("Milvus refused collection {} with a BM25 keyword index ({}); creating it dense-only:"
                            + " hybrid and keyword queries on it are answered mode_unsupported", name, e.getMessage());
                    try {
                        create(name, dimension, properties, null);
                    } catch (RuntimeException again) {
                        if (!createdMeanwhile(name)) {
                            throw again;
                        }
                    }
                }
            }
        }
        client.loadCollection(LoadCollectionReq.builder().collectionName(name).build());
    }

    /** After a failed create: whether another subtask (racing to create it) has, by now or shortly. */
    private boolean createdMeanwhile(String name) {
        for (int i = 0; i < 5; i++) {
            if (client.hasCollection(HasCollectionReq.builder().collectionName(name).build())) {
                return true;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /**
     * Whether a refused create names the keyword index's parts, as a server without BM25 functions
     * does; anything else (a timeout, a racing create) never makes a collection dense-only.
     */
    private static boolean refusesBm25(RuntimeException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return !unreachable(e) && !m.contains("exist")
                && (m.contains("bm25") || m.contains("function") || m.contains("analyzer") || m.contains("sparse"));
    }

    /**
     * Whether a failed call failed for want of a server (a deadline passed, the server could not be
     * reached), not because the server refused what it was asked.
     */
    public static boolean unreachable(Throwable e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(java.util.Locale.ROOT);
        return m.contains("deadline") || m.contains("unavailable");
    }

    /**
     * Creates the collection; with {@code analyzer}, {@code text} is analyzed and a Milvus BM25
     * function fills {@code sparse}, indexed for keyword search.
     */
    private void create(String name, int dimension, Map<String, String> properties, String analyzer) {
        CreateCollectionReq.CollectionSchema schema = client.createSchema();
        schema.addField(AddFieldReq.builder().fieldName("chunk_id").dataType(DataType.VarChar)
                .maxLength(MAX_ID_LENGTH).isPrimaryKey(true).autoID(false).build());
        schema.addField(AddFieldReq.builder().fieldName("doc_id").dataType(DataType.VarChar)
                .maxLength(MAX_ID_LENGTH).build());
        schema.addField(AddFieldReq.builder().fieldName("tenant").dataType(DataType.VarChar)
                .maxLength(64).isPartitionKey(true).build());
        schema.addField(AddFieldReq.builder().fieldName("chunk_index").dataType(DataType.Int32).build());
        AddFieldReq.AddFieldReqBuilder<?> text = AddFieldReq.builder().fieldName("text").dataType(DataType.VarChar)
                .maxLength(MAX_TEXT_LENGTH);
        if (analyzer != null) {
            text.enableAnalyzer(true).analyzerParams(Map.of("type", analyzer));
        }
        schema.addField(text.build());
        schema.addField(AddFieldReq.builder().fieldName("content_hash").dataType(DataType.VarChar)
                .maxLength(64).build());
        schema.addField(AddFieldReq.builder().fieldName("metadata").dataType(DataType.JSON).build());
        schema.addField(AddFieldReq.builder().fieldName("vector").dataType(DataType.FloatVector)
                .dimension(dimension).build());
        List<IndexParam> indexes = new ArrayList<>(List.of(IndexParam.builder().fieldName("vector")
                .indexType(IndexParam.IndexType.AUTOINDEX).metricType(IndexParam.MetricType.COSINE).build()));
        if (analyzer != null) {
            schema.addField(AddFieldReq.builder().fieldName(SPARSE_FIELD).dataType(DataType.SparseFloatVector).build());
            schema.addFunction(CreateCollectionReq.Function.builder().name(BM25_FUNCTION).functionType(FunctionType.BM25)
                    .inputFieldNames(List.of("text")).outputFieldNames(List.of(SPARSE_FIELD)).build());
            indexes.add(IndexParam.builder().fieldName(SPARSE_FIELD).indexType(IndexParam.IndexType.SPARSE_INVERTED_INDEX)
                    .metricType(IndexParam.MetricType.BM25).build());
        }
        client.createCollection(CreateCollectionReq.builder().collectionName(name).collectionSchema(schema)
                .indexParams(indexes).consistencyLevel(ConsistencyLevel.STRONG).properties(properties).build());
    }

    /**
     * Whether the collection can answer keyword queries: it has the {@code sparse} field a BM25
     * function fills (collections of earlier versions, or made on a server without BM25, have not).
     */
    public boolean hasKeywordIndex(String collection) {
        DescribeCollectionResp d = client.describeCollection(DescribeCollectionReq.builder().collectionName(collection).build());
        var schema = d.getCollectionSchema();
        return schema.getField(SPARSE_FIELD) != null && schema.getFunctionList() != null
                && schema.getFunctionList().stream().anyMatch(f -> f.getFunctionType() == FunctionType.BM25);
    }

    // ------------------------------------------------------------------ aliases and collections

    /** The collection {@code alias} points at, or empty when there is no such alias. */
    public Optional<String> aliasTarget(String alias) {
        List<String> aliases = client.listAliases(ListAliasesReq.builder().collectionName("").build()).getAlias();
        if (aliases == null || !aliases.contains(alias)) {
            return Optional.empty();
        }
        return Optional.ofNullable(client.describeAlias(DescribeAliasReq.builder().alias(alias).build()).getCollectionName());
    }

    /** Creates {@code alias} pointing at {@code collection}, or moves it there (atomically) when it exists. */
    public void pointAlias(String alias, String collection) {
        if (aliasTarget(alias).isPresent()) {
            client.alterAlias(AlterAliasReq.builder().alias(alias).collectionName(collection).build());
        } else {
            client.createAlias(CreateAliasReq.builder().alias(alias).collectionName(collection).build());
        }
    }

    /** Whether a collection (not an alias) of this name exists. */
    public boolean isCollection(String name) {
        return collections().contains(name);
    }

    /** The names of every collection (not aliases) in the database. */
    public List<String> collections() {
        return client.listCollections().getCollectionNames();
    }

    /** The collection's properties (stamps); empty for a collection without any. */
    public Map<String, String> properties(String collection) {
        DescribeCollectionResp d = client.describeCollection(DescribeCollectionReq.builder().collectionName(collection).build());
        return d.getProperties() == null ? Map.of() : d.getProperties();
    }

    /** The vector space a collection is stamped with, or empty when it carries no stamp. */
    public Optional<VectorSpace> spaceOf(String collection) {
        return VectorSpace.parse(properties(collection).get(VectorSpace.PROPERTY));
    }

    /** Sets (adds or replaces) properties of a collection. */
    public void setProperties(String collection, Map<String, String> properties) {
        client.alterCollectionProperties(AlterCollectionPropertiesReq.builder().collectionName(collection)
                .properties(properties).build());
    }

    public void renameCollection(String from, String to) {
        client.renameCollection(RenameCollectionReq.builder().collectionName(from).newCollectionName(to).build());
    }

    public void dropCollection(String collection) {
        client.dropCollection(DropCollectionReq.builder().collectionName(collection).build());
    }

    /** Rows of a collection (a strongly consistent count). */
    public long rowCount(String collection) {
        QueryResp resp = client.query(QueryReq.builder().collectionName(collection).filter("")
                .outputFields(List.of("count(*)")).consistencyLevel(ConsistencyLevel.STRONG).build());
        return ((Number) resp.getQueryResults().get(0).getEntity().get("count(*)")).longValue();
    }

    /** Loads the collection if it exists; false when there is none (yet). */
    public boolean openIfExists() {
        String name = settings.collection();
        if (!client.hasCollection(HasCollectionReq.builder().collectionName(name).build())) {
            return false;
        }
        client.loadCollection(LoadCollectionReq.builder().collectionName(name).build());
        return true;
    }

    /** Idempotent upsert; the caller keeps chunk ids unique within one call. */
    public void upsert(Collection<ChunkRow> rows) {
        if (rows.isEmpty()) {
            return;
        }
        List<JsonObject> data = new ArrayList<>(rows.size());
        for (ChunkRow r : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("chunk_id", r.chunkId());
            o.addProperty("doc_id", r.docId());
            o.addProperty("tenant", r.tenant());
            o.addProperty("chunk_index", r.chunkIndex());
            o.addProperty("text", truncate(r.text()));
            o.addProperty("content_hash", r.contentHash());
            o.add("metadata", JsonParser.parseString(r.metadataJson()));
            com.google.gson.JsonArray v = new com.google.gson.JsonArray(r.vector().length);
            for (float f : r.vector()) {
                v.add(f);
            }
            o.add("vector", v);
            data.add(o);
        }
        client.upsert(UpsertReq.builder().collectionName(settings.collection()).data(data).build());
    }

    /**
     * Seals the rows written so far into an indexed segment. Milvus Lite searches unsealed rows
     * one by one in Python (about 45 us per row here, against ~8 ms for the whole sealed
     * collection), so the sink seals periodically.
     */
    public void seal() {
        seal(settings.collection());
    }

    /** As {@link #seal()}, of the named collection. */
    public void seal(String collection) {
        client.flush(FlushReq.builder().collectionNames(List.of(collection))
                .waitFlushedTimeoutMs(settings.rpcTimeoutMs()).build());
    }

    /**
     * Deletes every chunk of the given documents of {@code tenant} with index >= {@code fromIndex}.
     * Every delete names its tenant: the same doc_id in another tenant is another document.
     */
    public void deleteChunks(String tenant, Collection<String> docIds, int fromIndex) {
        if (docIds.isEmpty()) {
            return;
        }
        StringJoiner in = new StringJoiner(", ", "[", "]");
        docIds.forEach(id -> in.add(FilterCompiler.literal(id)));
        String expr = "tenant == " + FilterCompiler.literal(tenant) + " and doc_id in " + in
                + (fromIndex > 0 ? " and chunk_index >= " + fromIndex : "");
        client.delete(DeleteReq.builder().collectionName(settings.collection()).filter(expr).build());
    }

    /** The best chunk of up to {@code topK} documents of {@code tenant} matching {@code filter}. */
    public List<Hit> search(float[] vector, String tenant, Map<String, Object> filter, int topK) {
        return search(settings.collection(), vector, tenant, filter, topK);
    }

    /** As {@link #search(float[], String, Map, int)}, in the named collection (or alias). */
    public List<Hit> search(String collection, float[] vector, String tenant, Map<String, Object> filter, int topK) {
        return searchLeg(collection, "vector", new FloatVec(vector), IndexParam.MetricType.COSINE, tenant, filter, topK);
    }

    /**
     * The keyword leg: Milvus BM25 over the analyzed chunk text ({@link #hasKeywordIndex}), the
     * best chunk of up to {@code topK} documents of {@code tenant} matching {@code filter}.
     */
    public List<Hit> keywordSearch(String collection, String text, String tenant, Map<String, Object> filter, int topK) {
        return searchLeg(collection, SPARSE_FIELD, new EmbeddedText(text), IndexParam.MetricType.BM25, tenant, filter, topK);
    }

    private List<Hit> searchLeg(String collection, String field, BaseVector query, IndexParam.MetricType metric,
            String tenant, Map<String, Object> filter, int topK) {
        SearchResp resp = client.search(SearchReq.builder()
                .collectionName(collection)
                .annsField(field)
                .metricType(metric)
                .data(List.of(query))
                .topK(Math.min(topK * CHUNK_OVERSAMPLE, 16384))
                .filter(FilterCompiler.compile(tenant, filter))
                .outputFields(HIT_FIELDS)
                .consistencyLevel(ConsistencyLevel.STRONG)
                .build());
        Map<String, Hit> best = new LinkedHashMap<>();
        for (SearchResp.SearchResult r : resp.getSearchResults().get(0)) {
            Map<String, Object> e = r.getEntity();
            String docId = (String) e.get("doc_id");
            // Results arrive best first, so the first chunk seen for a document is its best.
            // Milvus Lite 3.2 reports BM25 scores negated (as distances), the server positive: higher is better.
            double score = metric == IndexParam.MetricType.BM25 ? Math.abs(r.getScore()) : r.getScore();
            best.computeIfAbsent(docId, id -> new Hit(id, ((Number) e.get("chunk_index")).intValue(),
                    score, (String) e.get("text"), metadata(e.get("metadata"))));
            if (best.size() == topK) {
                break;
            }
        }
        return new ArrayList<>(best.values());
    }

    /** Rows matching a boolean expression, with the given fields (for tests and tools). */
    public List<Map<String, Object>> query(String expr, List<String> fields) {
        QueryResp resp = client.query(QueryReq.builder().collectionName(settings.collection()).filter(expr)
                .outputFields(fields).consistencyLevel(ConsistencyLevel.STRONG).build());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (QueryResp.QueryResult r : resp.getQueryResults()) {
            rows.add(r.getEntity());
        }
        return rows;
    }

    /** Number of rows matching {@code expr}. */
    public long count(String expr) {
        QueryResp resp = client.query(QueryReq.builder().collectionName(settings.collection()).filter(expr)
                .outputFields(List.of("count(*)")).consistencyLevel(ConsistencyLevel.STRONG).build());
        return ((Number) resp.getQueryResults().get(0).getEntity().get("count(*)")).longValue();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> metadata(Object raw) {
        if (raw == null) {
            return Map.of();
        }
        if (raw instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        return Json.read(raw.toString(), Map.class);
    }

    /** Milvus VARCHAR is bounded; a chunk is far below it, but a single-chunk text might not be. */
    private static String truncate(String text) {
        if (text.length() * 3 <= MAX_TEXT_LENGTH) {
            return text;
        }
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= MAX_TEXT_LENGTH) {
            return text;
        }
        String cut = new String(utf8, 0, MAX_TEXT_LENGTH, java.nio.charset.StandardCharsets.UTF_8);
        // drop a replacement char left by cutting a multi-byte sequence in half
        return cut.endsWith("\uFFFD") ? cut.substring(0, cut.length() - 1) : cut;
    }

    @Override
    public void close() {
        try {
            client.close(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
