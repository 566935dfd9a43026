package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The query embedder in Flink's operator harness, with a fake model. */
class EmbedQueriesTest {

    private OneInputStreamOperatorTestHarness<QueryTask, QueryTask> harness;

    @BeforeEach
    void setUp() throws Exception {
        RecordingEmbedder.reset();
        harness = new OneInputStreamOperatorTestHarness<>(TestOperators.embedQueriesWithoutMilvus(
                TestSettings.with("batch.max-size", "3", "batch.queries.max-wait", "5ms"), RecordingEmbedder::new));
        harness.setup();
        harness.open();
    }

    @AfterEach
    void tearDown() throws Exception {
        harness.close();
    }

    /** Package-private: EmbedQueriesITCase asks the same queries. */
    static QueryTask query(String id, long deadline) {
        return new QueryTask(id, "text of " + id, 5, "default", "{}", deadline, -1, System.currentTimeMillis(), null, null);
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
        assertThat(RecordingEmbedder.CALLS).hasSize(1);
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
        assertThat(RecordingEmbedder.CALLS).isEmpty();
        assertThat(replies()).extracting(Reply::requestId, Reply::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("late", "expired"));
    }

    @Test
    void modelFailureGivesErrorResponsesNotAFailedJob() throws Exception {
        RecordingEmbedder.failing = true;
        harness.processElement(new StreamRecord<>(query("q1", 0)));
        harness.prepareSnapshotPreBarrier(1);
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(replies()).hasSize(1);
        assertThat(replies().get(0).status()).isEqualTo("error");
        assertThat(replies().get(0).json()).contains("embedding_failed");
    }

    @Test
    void aQueryIsAnsweredSearchFailedUnkeptWhenWhereTheAliasPointsCannotBeReadNotRoutedByAGuess() throws Exception {
        var blind = new OneInputStreamOperatorTestHarness<>(TestOperators.embedQueries(TestSettings.with(), RecordingEmbedder::new)
                .withAliasSource(milvus -> AliasFollowerTest.lookup(alias -> {
                    throw new IllegalStateException("UNAVAILABLE: Milvus is down");
                })));
        blind.setup();
        blind.open();
        try {
            blind.processElement(new StreamRecord<>(query("q1", 0)));
            blind.prepareSnapshotPreBarrier(1);
            assertThat(blind.extractOutputValues()).isEmpty();
            assertThat(RecordingEmbedder.CALLS).isEmpty();
            List<Reply> answered = blind.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
            assertThat(answered).extracting(Reply::status).containsExactly("error");
            assertThat(answered.get(0).json()).contains("search_failed").contains("could not be read");
            assertThat(answered.get(0).digest()).as("not kept: a retry under the same id is answered anew").isNull();
        } finally {
            blind.close();
        }
    }
}
