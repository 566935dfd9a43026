package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.Origin;
import io.milvus.exception.ParamException;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
import io.milvus.v2.service.collection.request.AddFieldReq;
import io.milvus.v2.service.collection.request.CreateCollectionReq;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.connector.sink2.CommittableMessage;
import org.apache.flink.streaming.runtime.operators.sink.SinkWriterOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * The Milvus sink in Flink's sink-writer operator (test harness: real mailbox, manual processing
 * time) against the real Milvus Lite, Kafka and Redis servers of scripts/test.sh.
 */
class MilvusSinkWriterITCase {

    private static final Origin ORIGIN = new Origin("docs", 0, 42);
    private long checkpoint;

    private static String unique(String prefix) {
        return prefix + UUID.randomUUID().toString().replace('-', '_');
    }

    private static JobSettings settings(String collection, String dlqTopic, String... more) {
        List<String> kv = new ArrayList<>(List.of("milvus.uri", TestServers.milvusUri(), "milvus.collection", collection,
                "milvus.write.seal-interval", "0", "kafka.bootstrap-servers", TestServers.kafkaBootstrap(),
                "topic.dlq", dlqTopic));
        kv.addAll(List.of(more));
        return TestSettings.with(kv.toArray(String[]::new));
    }

    private static MilvusSink sink(JobSettings settings) {
        return TestOperators.milvusSink(settings).build();
    }

    private static OneInputStreamOperatorTestHarness<ChunkTask, CommittableMessage<Void>> open(
            MilvusSink sink, OperatorSubtaskState state) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<ChunkTask, CommittableMessage<Void>>(
                new SinkWriterOperatorFactory<>(sink));
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static void send(OneInputStreamOperatorTestHarness<ChunkTask, ?> h, ChunkTask... tasks) throws Exception {
        for (ChunkTask t : tasks) {
            h.processElement(new StreamRecord<>(t));
        }
    }

    /** What a checkpoint does first: write everything buffered and wait for it. */
    private void drain(OneInputStreamOperatorTestHarness<ChunkTask, ?> h) throws Exception {
        h.prepareSnapshotPreBarrier(++checkpoint);
    }

    /** One checkpoint's worth of input: the tasks, then a drain. */
    private void write(OneInputStreamOperatorTestHarness<ChunkTask, ?> h, ChunkTask... tasks) throws Exception {
        send(h, tasks);
        drain(h);
    }

    /** What some writes do to a sink writer on its own fresh collection. */
    @FunctionalInterface
    private interface Writes {
        void to(OneInputStreamOperatorTestHarness<ChunkTask, ?> h) throws Exception;
    }

    /**
     * The rows (chunk_id -> text) a fresh collection holds after {@code writes} went through a sink
     * writer with the test settings and {@code moreSettings}, and the writer was closed.
     */
    private static Map<String, String> rowsAfter(Writes writes, String... moreSettings) throws Exception {
        String c = unique("w_");
        try (var h = open(sink(settings(c, unique("dlq_"), moreSettings)), null)) {
            writes.to(h);
        }
        return rows(c);
    }

    private static ChunkTask upsert(String tenant, String doc, int index, int count, String text, float... vector) {
        return new ChunkTask(doc, Op.UPSERT, tenant, index, count, text, 3, "h" + text.length(), "{\"lang\":\"en\"}",
                vector, ORIGIN);
    }

    private static ChunkTask upsert(String doc, int index, int count, String text, float... vector) {
        return upsert("t", doc, index, count, text, vector);
    }

    private static ChunkTask delete(String tenant, String doc) {
        return ChunkTask.delete(doc, tenant, ORIGIN);
    }

    private static MilvusSettings milvus(String collection) {
        return new MilvusSettings(TestServers.milvusUri(), null, collection, 10_000, 10_000);
    }

    /** chunk_id -> text of every row in the collection. */
    private static Map<String, String> rows(String collection) {
        try (MilvusStore store = new MilvusStore(milvus(collection))) {
            Map<String, String> out = new TreeMap<>();
            if (store.describe().isEmpty()) {
                return out; // nothing written yet
            }
            store.ensureCollection(3);
            for (Map<String, Object> r : store.query("chunk_index >= 0", List.of("chunk_id", "text"))) {
                out.put(r.get("chunk_id").toString(), r.get("text").toString());
            }
            return out;
        }
    }

    /** Every dead letter on {@code topic}: waits up to {@code timeout} for {@code expected} of them. */
    private static List<ConsumerRecord<String, String>> deadLetters(String topic, int expected, Duration timeout) {
        Properties p = new Properties();
        p.put("bootstrap.servers", TestServers.kafkaBootstrap());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        p.put("group.id", unique("sink-test-"));
        List<ConsumerRecord<String, String>> all = new ArrayList<>();
        try (var c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && all.size() < expected) {
                c.poll(Duration.ofMillis(200)).forEach(all::add);
            }
        }
        return all;
    }

    @Test
    void repeatedChunkIdsInOneBatchCollapseToTheLastWrite() throws Exception {
        assertThat(rowsAfter(h -> write(h, upsert("d", 0, 1, "first", 1, 0, 0), upsert("d", 0, 1, "second", 0, 1, 0),
                upsert("d", 0, 1, "third", 0, 0, 1)))).containsExactly(Map.entry("t:d#0", "third"));
    }

    @Test
    void aDocumentsDeletesAndUpsertsApplyInArrivalOrderWhereverTheBatchesEnd() throws Exception {
        for (String batchRows : List.of("1", "2", "256")) {
            Map<String, String> rows = rowsAfter(h -> write(h, upsert("gone", 0, 2, "g0", 1, 0, 0),
                    upsert("gone", 1, 2, "g1", 1, 0, 0), delete("t", "gone"), upsert("back", 0, 2, "b0", 1, 0, 0),
                    upsert("back", 1, 2, "b1", 1, 0, 0), delete("t", "back"), upsert("back", 0, 1, "b0 v2", 0, 1, 0)),
                    "milvus.write.max-batch-rows", batchRows);
            assertThat(rows).as("batches of %s rows: delete after upsert wins; upsert after delete wins, and its"
                    + " stale chunk 1 is gone", batchRows).containsExactly(Map.entry("t:back#0", "b0 v2"));
        }
    }

    @Test
    void aReChunkedDocumentLosesItsStaleChunks() throws Exception {
        assertThat(rowsAfter(h -> {
            write(h, upsert("d", 0, 3, "v1 c0", 1, 0, 0), upsert("d", 1, 3, "v1 c1", 1, 0, 0), upsert("d", 2, 3, "v1 c2", 1, 0, 0));
            write(h, upsert("d", 0, 1, "v2 c0", 0, 1, 0));
        })).containsExactly(Map.entry("t:d#0", "v2 c0"));
    }

    @Test
    void tenantBsDeleteLeavesTenantAsDocumentWithTheSameDocId() throws Exception {
        assertThat(rowsAfter(h -> {
            write(h, upsert("a", "kb-1", 0, 1, "tenant a's text", 1, 0, 0), upsert("b", "kb-1", 0, 1, "tenant b's text", 0, 1, 0));
            write(h, delete("b", "kb-1"));
        })).containsExactly(Map.entry("a:kb-1#0", "tenant a's text"));
    }

    @Test
    void theByteBoundWritesBeforeTheRowBound() throws Exception {
        String c = unique("w_");
        String kilobyte = "x".repeat(1024);
        try (var h = open(sink(settings(c, unique("dlq_"), "milvus.write.max-batch-bytes", "4kb")), null)) {
            send(h, upsert("a", 0, 1, kilobyte, 1, 0, 0));
            Thread.sleep(500);
            assertThat(rows(c)).as("one row of ~2 KB: still buffered").isEmpty();
            send(h, upsert("b", 0, 1, kilobyte, 1, 0, 0));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (rows(c).isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(rows(c)).as("~4 KB buffered: a batch went out without a flush or timer, far below 256 rows")
                    .isNotEmpty();
        }
    }

    /** Refuses, like Milvus refusing a field value, every upsert that carries a row of one document. */
    static final class RefusingClient implements MilvusSinkClient.Factory {
        static final Map<String, AtomicInteger> UPSERTS = new ConcurrentHashMap<>();
        final String refusedDocId;
        final String key;

        RefusingClient(String refusedDocId) {
            this.refusedDocId = refusedDocId;
            this.key = unique("k");
            UPSERTS.put(key, new AtomicInteger());
        }

        int upserts() {
            return UPSERTS.get(key).get();
        }

        @Override
        public MilvusSinkClient open(MilvusSettings settings) {
            return new Delegating(MilvusSinkClient.milvus(settings)) {
                @Override
                public void upsert(Collection<ChunkRow> rows) {
                    UPSERTS.get(key).incrementAndGet();
                    if (rows.stream().anyMatch(r -> r.docId().equals(refusedDocId))) {
                        throw new ParamException("json field metadata exceeds max size 65536");
                    }
                    super.upsert(rows);
                }
            };
        }
    }

    /** Fails every upsert as an unreachable Milvus does, {@code failures} times (or always with -1). */
    static final class FlakyClient implements MilvusSinkClient.Factory {
        static final Map<String, AtomicInteger> FAILURES_LEFT = new ConcurrentHashMap<>();
        final String key = unique("k");

        FlakyClient(int failures) {
            FAILURES_LEFT.put(key, new AtomicInteger(failures));
        }

        @Override
        public MilvusSinkClient open(MilvusSettings settings) {
            return new Delegating(MilvusSinkClient.milvus(settings)) {
                @Override
                public void upsert(Collection<ChunkRow> rows) {
                    if (FAILURES_LEFT.get(key).getAndDecrement() != 0) {
                        throw new IllegalStateException("UNAVAILABLE: io exception (connection refused)");
                    }
                    super.upsert(rows);
                }
            };
        }
    }

    private static class Delegating implements MilvusSinkClient {
        private final MilvusSinkClient real;

        Delegating(MilvusSinkClient real) {
            this.real = real;
        }

        @Override
        public Optional<MilvusStore.CollectionFacts> describe() {
            return real.describe();
        }

        @Override
        public void ensureCollection(int dimension) {
            real.ensureCollection(dimension);
        }

        @Override
        public void upsert(Collection<ChunkRow> rows) {
            real.upsert(rows);
        }

        @Override
        public void deleteChunks(String tenant, Collection<String> docIds, int fromIndex) {
            real.deleteChunks(tenant, docIds, fromIndex);
        }

        @Override
        public void seal() {
            real.seal();
        }

        @Override
        public void close() {
            real.close();
        }
    }

    @Test
    void aBatchMilvusRejectsLandsExceptTheOffendingDocumentWhichIsDeadLettered() throws Exception {
        String c = unique("w_");
        String dlq = unique("dlq_");
        RefusingClient refusing = new RefusingClient("poison");
        MilvusSink sink = TestOperators.milvusSink(settings(c, dlq)).setClientFactory(refusing).build();
        try (var h = open(sink, null)) {
            for (int i = 0; i < 6; i++) {
                send(h, upsert("good-" + i, 0, 1, "good " + i, 1, 0, 0));
            }
            send(h, upsert("poison", 0, 2, "poison chunk 0", 0, 1, 0), upsert("poison", 1, 2, "poison chunk 1", 0, 1, 0));
            write(h, upsert("good-6", 0, 1, "good 6", 1, 0, 0), upsert("good-7", 0, 1, "good 7", 1, 0, 0));
        }
        assertThat(rows(c)).as("every good document landed, no row of the refused one")
                .hasSize(8).doesNotContainKeys("t:poison#0", "t:poison#1");
        assertThat(refusing.upserts()).as("halving 9 documents finds the bad one in a few calls, not one per row")
                .isBetween(3, 9);
        List<ConsumerRecord<String, String>> letters = deadLetters(dlq, 1, Duration.ofSeconds(30));
        assertThat(letters).hasSize(1);
        assertThat(letters.get(0).key()).isEqualTo("t:poison");
        JsonNode letter = Json.parse(letters.get(0).value());
        assertThat(letter.path("stage").asText()).isEqualTo("milvus_write");
        assertThat(letter.path("error").path("code").asText()).isEqualTo("milvus_rejected");
        assertThat(letter.path("error").path("message").asText()).contains("exceeds max size 65536");
        assertThat(letter.path("source_topic").asText()).isEqualTo("docs");
        assertThat(letter.path("offset").asLong()).isEqualTo(42);
        JsonNode payload = Json.parse(letter.path("payload").asText());
        assertThat(payload.path("doc_id").asText()).isEqualTo("poison");
        assertThat(payload.path("tenant").asText()).isEqualTo("t");
        assertThat(payload.path("metadata").path("lang").asText()).isEqualTo("en");
        assertThat(payload.path("chunks").findValuesAsText("text")).containsExactly("poison chunk 0", "poison chunk 1");
    }

    @Test
    void aValueMilvusRefusesIsIsolatedAndDeadLetteredByTheRealClient() throws Exception {
        String c = unique("w_");
        String dlq = unique("dlq_");
        String tooLong = "x".repeat(65); // the tenant field is a VARCHAR(64)
        try (var h = open(sink(settings(c, dlq)), null)) {
            write(h, upsert("good-1", 0, 1, "good 1", 1, 0, 0), upsert(tooLong, "odd", 0, 1, "odd", 0, 1, 0),
                    upsert("good-2", 0, 1, "good 2", 1, 0, 0));
        }
        assertThat(rows(c)).containsOnlyKeys("t:good-1#0", "t:good-2#0");
        List<ConsumerRecord<String, String>> letters = deadLetters(dlq, 1, Duration.ofSeconds(30));
        assertThat(letters).extracting(ConsumerRecord::key).containsExactly(tooLong + ":odd");
        assertThat(Json.parse(letters.get(0).value()).path("error").path("message").asText()).contains("tenant");
    }

    @Test
    void transientFailuresAreRetriedNotDeadLettered() throws Exception {
        String c = unique("w_");
        String dlq = unique("dlq_");
        MilvusSink sink = TestOperators.milvusSink(settings(c, dlq)).setClientFactory(new FlakyClient(3)).build();
        try (var h = open(sink, null)) {
            write(h, upsert("a", 0, 1, "a", 1, 0, 0), upsert("b", 0, 1, "b", 0, 1, 0));
        }
        assertThat(rows(c)).containsOnlyKeys("t:a#0", "t:b#0");
        assertThat(deadLetters(dlq, 1, Duration.ofSeconds(3))).isEmpty();
    }

    @Test
    void aMilvusThatStaysDownFailsTheJobInsteadOfDeadLettering() throws Exception {
        String c = unique("w_");
        String dlq = unique("dlq_");
        MilvusSink sink = TestOperators.milvusSink(settings(c, dlq)).setClientFactory(new FlakyClient(-1))
                .setMaxRetryTime(Duration.ofSeconds(1)).build();
        try (var h = open(sink, null)) {
            send(h, upsert("a", 0, 1, "a", 1, 0, 0));
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> drain(h)).hasStackTraceContaining("still failing after 1000 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
        assertThat(deadLetters(dlq, 1, Duration.ofSeconds(3))).isEmpty();
    }

    @Test
    void aCollectionOfAnotherDimensionFailsTheJobWithoutRestarts() throws Exception {
        String c = unique("w_");
        try (var h = open(sink(settings(c, unique("dlq_"))), null)) {
            write(h, upsert("three", 0, 1, "dim 3", 1, 0, 0));
            send(h, upsert("four", 0, 1, "dim 4", 1, 0, 0, 0));
            assertThatThrownBy(() -> drain(h))
                    .satisfies(e -> assertThat(ExceptionUtils
                            .findThrowable(e, SuppressRestartsException.class)).isPresent())
                    .hasStackTraceContaining("dimension 3").hasStackTraceContaining("produces 4");
        }
    }

    @Test
    void aCollectionWithTheOldIdSchemeIsRefusedAtStart() throws Exception {
        String c = unique("w_");
        MilvusClientV2 raw = new MilvusClientV2(ConnectConfig.builder().uri(TestServers.milvusUri()).build());
        try {
            // What an earlier version created: the same fields, no id-scheme stamp.
            CreateCollectionReq.CollectionSchema schema = raw.createSchema();
            schema.addField(AddFieldReq.builder().fieldName("chunk_id").dataType(DataType.VarChar).maxLength(600)
                    .isPrimaryKey(true).autoID(false).build());
            schema.addField(AddFieldReq.builder().fieldName("vector").dataType(DataType.FloatVector).dimension(3).build());
            raw.createCollection(CreateCollectionReq.builder().collectionName(c).collectionSchema(schema)
                    .indexParams(List.of(IndexParam.builder().fieldName("vector").indexType(IndexParam.IndexType.AUTOINDEX)
                            .metricType(IndexParam.MetricType.COSINE).build())).build());
        } finally {
            raw.close(5);
        }
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> open(sink(settings(c, unique("dlq_"))), null).close())
                .satisfies(e -> assertThat(ExceptionUtils
                        .findThrowable(e, SuppressRestartsException.class)).isPresent())
                .hasStackTraceContaining("'" + c + "'")
                .hasStackTraceContaining(MilvusStore.UNSTAMPED_ID_SCHEME)
                .hasStackTraceContaining("set milvus.collection to a new name")
                .hasStackTraceContaining("earliest offset");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("refused at start, not after retries")
                .isLessThan(Duration.ofSeconds(10));
    }

    @Test
    void bufferedEntriesSurviveSnapshotAndRestore() throws Exception {
        String c = unique("w_");
        MilvusSink sink = sink(settings(c, unique("dlq_"), "milvus.write.flush-interval", "1h"));
        var first = open(sink, null);
        try {
            send(first, upsert("kept", 0, 2, "kept 0", 1, 0, 0), upsert("kept", 1, 2, "kept 1 " + "é".repeat(40_000), 1, 0, 0),
                    delete("t", "other"));
            // A snapshot without the pre-barrier flush: the entries are only in the writer state.
            OperatorSubtaskState state = first.snapshot(1, 1);
            assertThat(rows(c)).as("nothing written before the restore").isEmpty();
            try (var restored = open(sink, state)) {
                drain(restored);
            }
            assertThat(rows(c)).containsOnlyKeys("t:kept#0", "t:kept#1");
            assertThat(rows(c).get("t:kept#1")).startsWith("kept 1 é");
        } finally {
            first.close();
        }
    }

    @Test
    void pendingEpochBumpsSurviveARestart() throws Exception {
        pendingBumpsLandAfterARestart(List.of("bumped"));
    }

    /** Producers choose tenants: many pending bumps go to Redis in bounded scripts, and all land. */
    @Test
    void pendingBumpsOfMoreTenantsThanOneScriptTakesAllLand() throws Exception {
        List<String> tenants = new ArrayList<>();
        for (int i = 0; i < 2 * MilvusSinkWriter.BUMP_CHUNK + 7; i++) {
            tenants.add("t" + i);
        }
        pendingBumpsLandAfterARestart(tenants);
    }

    private void pendingBumpsLandAfterARestart(List<String> tenants) throws Exception {
        String c = unique("w_");
        String dlq = unique("dlq_");
        // No Redis answers on port 1: the writes land, their epoch bumps stay pending.
        MilvusSink noRedis = sink(settings(c, dlq, "redis.uri", "redis://127.0.0.1:1", "cache.retrieval.enabled", "true"));
        JobSettings withRedis = settings(c, dlq, "redis.uri", TestServers.redisUri(), "cache.retrieval.enabled", "true");
        OperatorSubtaskState state;
        try (var h = open(noRedis, null)) {
            for (String tenant : tenants) {
                send(h, upsert(tenant, "d", 0, 1, "text", 1, 0, 0));
            }
            drain(h);
            state = h.snapshot(checkpoint, checkpoint);
        }
        try (RedisLink link = withRedis.cache().redisLink("test")) {
            CollectionEpochs epochs = new CollectionEpochs(link, c);
            Map<String, CollectionEpochs.Epoch> before = epochs.read(tenants).orElseThrow();
            try (var restored = open(sink(withRedis), state)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (unchanged(epochs, tenants, before) > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
            }
            assertThat(unchanged(epochs, tenants, before)).as("tenants whose epoch the restored writer did not bump")
                    .isZero();
        }
    }

    private static long unchanged(CollectionEpochs epochs, List<String> tenants, Map<String, CollectionEpochs.Epoch> before) {
        Map<String, CollectionEpochs.Epoch> now = epochs.read(tenants).orElseThrow();
        return tenants.stream().filter(t -> now.get(t).equals(before.get(t))).count();
    }
}
