package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.Origin;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.JobInfo;
import org.apache.flink.api.common.TaskInfo;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.UserCodeClassLoader;
import org.junit.jupiter.api.Test;

/** The Milvus sink writer on its own against the real Milvus Lite server, timers fired by hand. */
class MilvusSinkWriterTest {

    private static final Origin ORIGIN = new Origin("docs", 0, 0);

    /** What the writer needs from Flink: processing time (manual) and a metric group. */
    private static final class Context implements WriterInitContext {
        final List<ProcessingTimeService.ProcessingTimeCallback> timers = new ArrayList<>();

        @Override
        public ProcessingTimeService getProcessingTimeService() {
            return new ProcessingTimeService() {
                @Override
                public long getCurrentProcessingTime() {
                    return 0;
                }

                @Override
                public ScheduledFuture<?> registerTimer(long time, ProcessingTimeCallback callback) {
                    timers.add(callback);
                    return null;
                }
            };
        }

        @Override
        public SinkWriterMetricGroup metricGroup() {
            return UnregisteredMetricsGroup.createSinkWriterMetricGroup();
        }

        @Override
        public UserCodeClassLoader getUserCodeClassLoader() {
            throw new UnsupportedOperationException();
        }

        @Override
        public MailboxExecutor getMailboxExecutor() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SerializationSchema.InitializationContext asSerializationSchemaInitializationContext() {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isObjectReuseEnabled() {
            return false;
        }

        @Override
        public <IN> TypeSerializer<IN> createInputSerializer() {
            throw new UnsupportedOperationException();
        }

        @Override
        public OptionalLong getRestoredCheckpointId() {
            return OptionalLong.empty();
        }

        @Override
        public JobInfo getJobInfo() {
            throw new UnsupportedOperationException();
        }

        @Override
        public TaskInfo getTaskInfo() {
            throw new UnsupportedOperationException();
        }
    }

    private static final SinkWriter.Context NO_CONTEXT = new SinkWriter.Context() {
        @Override
        public long currentWatermark() {
            return Long.MIN_VALUE;
        }

        @Override
        public Long timestamp() {
            return null;
        }
    };

    private static String collection() {
        return "w_" + UUID.randomUUID().toString().replace('-', '_');
    }

    private static JobSettings settings(String collection, String... more) {
        List<String> kv = new ArrayList<>(List.of("milvus.uri", TestServers.milvusUri(), "milvus.collection", collection,
                "milvus.write.seal-interval", "0"));
        kv.addAll(List.of(more));
        return TestSettings.with(kv.toArray(String[]::new));
    }

    private static ChunkTask upsert(String doc, int index, int count, String text, float... vector) {
        return new ChunkTask(doc, Op.UPSERT, "t", index, count, text, 3, "h" + text.length(), "{}", vector, ORIGIN);
    }

    private static ChunkTask delete(String doc) {
        return ChunkTask.delete(doc, "t", ORIGIN);
    }

    private static Map<String, String> rows(String collection) {
        try (MilvusStore store = new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, collection, 10_000, 10_000))) {
            Map<String, String> out = new TreeMap<>();
            if (!store.openIfExists()) {
                return out; // nothing written yet
            }
            for (Map<String, Object> r : store.query("chunk_index >= 0", List.of("chunk_id", "text"))) {
                out.put(r.get("chunk_id").toString(), r.get("text").toString());
            }
            return out;
        }
    }

    @Test
    void repeatedChunkIdsInOneBatchCollapseToTheLastWrite() throws Exception {
        String c = collection();
        try (MilvusSinkWriter w = new MilvusSinkWriter(settings(c), new Context())) {
            w.write(upsert("d", 0, 1, "first", 1, 0, 0), NO_CONTEXT);
            w.write(upsert("d", 0, 1, "second", 0, 1, 0), NO_CONTEXT);
            w.write(upsert("d", 0, 1, "third", 0, 0, 1), NO_CONTEXT);
            w.flush(false);
        }
        assertThat(rows(c)).containsExactly(Map.entry("t:d#0", "third"));
    }

    @Test
    void aDocumentsDeletesAndUpsertsApplyInArrivalOrder() throws Exception {
        String c = collection();
        try (MilvusSinkWriter w = new MilvusSinkWriter(settings(c), new Context())) {
            w.write(upsert("gone", 0, 2, "g0", 1, 0, 0), NO_CONTEXT);
            w.write(upsert("gone", 1, 2, "g1", 1, 0, 0), NO_CONTEXT);
            w.write(delete("gone"), NO_CONTEXT);
            w.write(upsert("back", 0, 2, "b0", 1, 0, 0), NO_CONTEXT);
            w.write(upsert("back", 1, 2, "b1", 1, 0, 0), NO_CONTEXT);
            w.write(delete("back"), NO_CONTEXT);
            w.write(upsert("back", 0, 1, "b0 v2", 0, 1, 0), NO_CONTEXT);
            w.flush(false);
        }
        assertThat(rows(c)).as("delete after upsert wins; upsert after delete wins, and its stale chunk 1 is gone")
                .containsExactly(Map.entry("t:back#0", "b0 v2"));
    }

    @Test
    void theByteBoundWritesBeforeTheRowBound() throws Exception {
        String c = collection();
        String kilobyte = "x".repeat(1024);
        try (MilvusSinkWriter w = new MilvusSinkWriter(settings(c, "milvus.write.max-batch-bytes", "4kb"), new Context())) {
            w.write(upsert("a", 0, 1, kilobyte, 1, 0, 0), NO_CONTEXT);
            assertThat(rows(c)).as("one row of ~2 KB: still buffered").isEmpty();
            w.write(upsert("b", 0, 1, kilobyte, 1, 0, 0), NO_CONTEXT);
            assertThat(rows(c)).as("~4 KB buffered: written without a flush, far below 256 rows").hasSize(2);
        }
    }

    @Test
    void aRequestMilvusRejectsFailsAtOnceInsteadOfRetryingForAMinute() throws Exception {
        String c = collection();
        try (MilvusSinkWriter w = new MilvusSinkWriter(settings(c), new Context())) {
            w.write(upsert("three", 0, 1, "dim 3", 1, 0, 0), NO_CONTEXT);
            w.flush(false);
            w.write(upsert("four", 0, 1, "dim 4", 1, 0, 0, 0), NO_CONTEXT);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> w.flush(false)).hasMessageContaining("retrying cannot help");
            assertThat((System.nanoTime() - t0) / 1_000_000).as("ms until it gave up").isLessThan(10_000);
        }
    }
}
