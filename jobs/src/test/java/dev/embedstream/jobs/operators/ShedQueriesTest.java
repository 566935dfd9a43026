package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.json.Json;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.List;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Misses are refused before the slow path when its recent pace would answer them past their deadline. */
class ShedQueriesTest {

    private static QueryTask query(String id, long receivedAt, long deadlineMs) {
        return new QueryTask(id, "text", 3, "default", "{}", deadlineMs, -1, receivedAt, null, null);
    }

    private static List<Reply> shed(OneInputStreamOperatorTestHarness<QueryTask, QueryTask> h) {
        var side = h.getSideOutput(Replies.TAG);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void aQueryWhoseDeadlineComesBeforeTheSlowPathsRecentLatencyIsOverloadedAtOnceTheOthersGoOn() throws Exception {
        var s = TestSettings.with("query.max-latency", "2s");
        try (var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ShedQueries(s.quota(),
                s.query().maxLatencyMs())))) {
            h.open();
            QueryPressure pressure = QueryPressure.of(h.getEnvironment().getJobID().toString());
            long now = System.currentTimeMillis();
            h.processElement(new StreamRecord<>(query("idle", now, 0)));
            for (int i = 0; i < 20; i++) {
                pressure.answered(System.currentTimeMillis(), 1_500); // the slow path takes 1.5 s now
            }
            now = System.currentTimeMillis();
            h.processElement(new StreamRecord<>(query("hurried", now, now + 500)));
            h.processElement(new StreamRecord<>(query("patient", now, 0))); // 2 s budget
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("idle", "patient");
            assertThat(shed(h)).extracting(Reply::requestId).containsExactly("hurried");
            var answer = Json.parse(shed(h).get(0).json());
            assertThat(answer.get("error").get("code").asText()).isEqualTo("overloaded");
            assertThat(shed(h).get(0).answersAQuery()).as("not kept: a retry is answered anew").isFalse();
        }
    }

    @Test
    void afterEverythingWasShedThePressureFadesAndQueriesAreTriedAgain() {
        QueryPressure p = QueryPressure.of("fade-test");
        p.answered(10_000, 4_000);
        long at = 10_000;
        assertThat(p.expectedMs(at)).isEqualTo(800); // one sample weighs 0.2
        assertThat(p.expectedMs(at + QueryPressure.HALF_LIFE_MS)).isEqualTo(400);
        assertThat(p.expectedMs(at + 20 * QueryPressure.HALF_LIFE_MS)).isZero();
    }
}
