package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.embed.Embedder;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The query embedder in Flink's operator harness, with a fake model. */
class EmbedQueriesTest {

    static final List<List<String>> CALLS = Collections.synchronizedList(new ArrayList<>());
    static volatile boolean fail;

    static final class FakeEmbedder implements Embedder {
        @Override
        public float[][] embed(List<String> texts) {
            CALLS.add(List.copyOf(texts));
            if (fail) {
                throw new IllegalStateException("model exploded");
            }
            float[][] out = new float[texts.size()][];
            for (int i = 0; i < texts.size(); i++) {
                out[i] = new float[] {texts.get(i).length(), 1};
            }
            return out;
        }

        @Override
        public String fingerprint() {
            return "fake";
        }

        @Override
        public void close() {}
    }

    private OneInputStreamOperatorTestHarness<QueryTask, QueryTask> harness;

    @BeforeEach
    void setUp() throws Exception {
        CALLS.clear();
        fail = false;
        harness = new OneInputStreamOperatorTestHarness<>(new EmbedQueries(
                TestSettings.with("batch.max-size", "3", "batch.queries.max-wait", "5ms"), FakeEmbedder::new));
        harness.setup();
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    private static QueryTask query(String id, long deadline) {
        return new QueryTask(id, "text of " + id, 5, "default", "{}", deadline, -1, System.currentTimeMillis(), null);
    }

    private List<Reply> replies() {
        return harness.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void queriesWaitAtMostTheirMaxWaitThenEmbedTogether() throws Exception {
        harness.setProcessingTime(0);
        harness.processElement(new StreamRecord<>(query("a", 0)));
        harness.processElement(new StreamRecord<>(query("b", 0)));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.setProcessingTime(5);
        assertThat(harness.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("a", "b");
        assertThat(harness.extractOutputValues()).allSatisfy(q -> assertThat(q.vector()).isNotNull());
        assertThat(CALLS).hasSize(1);
    }

    @Test
    void aFullBatchDoesNotWait() throws Exception {
        for (String id : List.of("a", "b", "c")) {
            harness.processElement(new StreamRecord<>(query(id, 0)));
        }
        assertThat(harness.extractOutputValues()).hasSize(3);
    }

    @Test
    void expiredQueryIsAnsweredExpiredWithoutModelWork() throws Exception {
        harness.processElement(new StreamRecord<>(query("late", 1)));
        harness.prepareSnapshotPreBarrier(1);
        assertThat(CALLS).isEmpty();
        assertThat(replies()).extracting(Reply::requestId, Reply::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("late", "expired"));
    }

    @Test
    void modelFailureGivesErrorResponsesNotAFailedJob() throws Exception {
        fail = true;
        harness.processElement(new StreamRecord<>(query("q1", 0)));
        harness.prepareSnapshotPreBarrier(1);
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(replies()).hasSize(1);
        assertThat(replies().get(0).status()).isEqualTo("error");
        assertThat(replies().get(0).json()).contains("embedding_failed");
    }
}
