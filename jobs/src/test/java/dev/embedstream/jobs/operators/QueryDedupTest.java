package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** DedupQueries and ReplyCache together make a repeated request id cost no second computation. */
class QueryDedupTest {

    private static final long TTL = 600_000;

    private static QueryTask query(String id) {
        return new QueryTask(id, "text", 5, "default", "{}", 0, -1, 0, null, null);
    }

    @Test
    void repeatedRequestIdIsNotComputedTwice() throws Exception {
        try (var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new DedupQueries(TTL)), QueryTask::requestId, Types.STRING)) {
            h.open();
            h.processElement(new StreamRecord<>(query("q1")));
            h.processElement(new StreamRecord<>(query("q1")));
            h.processElement(new StreamRecord<>(query("q2")));
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("q1", "q2");
            assertThat(h.getSideOutput(DedupQueries.REPEATS)).extracting(r -> r.getValue().requestId()).containsExactly("q1");

            h.setStateTtlProcessingTime(TTL + 1);
            h.processElement(new StreamRecord<>(query("q1")));
            assertThat(h.extractOutputValues()).as("after the TTL it is a new ask").hasSize(3);
        }
    }

    @Test
    void repeatAfterTheAnswerGetsTheSameAnswerAgain() throws Exception {
        try (var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new ReplyCache(TTL)), Reply::requestId, QueryTask::requestId, Types.STRING)) {
            h.open();
            Reply answer = new Reply("q1", -1, "ok", "{\"request_id\":\"q1\",\"status\":\"ok\",\"took_ms\":12}");
            h.processElement2(new StreamRecord<>(query("q0"))); // a repeat whose answer is still in flight
            h.processElement1(new StreamRecord<>(answer));
            h.processElement2(new StreamRecord<>(query("q1")));
            assertThat(h.extractOutputValues()).containsExactly(answer, answer);
        }
    }
}
