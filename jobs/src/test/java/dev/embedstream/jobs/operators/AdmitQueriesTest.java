package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Queries are refused where they enter when their tenant is over quota or they are already too old. */
class AdmitQueriesTest {

    private static final long T0 = 1_000_000;

    private static OneInputStreamOperatorTestHarness<QueryTask, QueryTask> admit(String... keyValues) throws Exception {
        var s = TestSettings.with(keyValues);
        var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(
                new AdmitQueries(s.quota(), s.query().maxLatencyMs())));
        h.setProcessingTime(T0);
        h.open();
        return h;
    }

    private static QueryTask query(String tenant, String id, long receivedAt) {
        return new QueryTask(id, "text", 3, tenant, "{}", 0, -1, receivedAt, null, null);
    }

    /** Sends {@code n} queries of the tenant at the harness's current time; returns how many were admitted. */
    private static int send(OneInputStreamOperatorTestHarness<QueryTask, QueryTask> h, String tenant, String prefix, int n)
            throws Exception {
        int before = h.extractOutputValues().size();
        for (int i = 0; i < n; i++) {
            h.processElement(new StreamRecord<>(query(tenant, prefix + i, h.getProcessingTime())));
        }
        return h.extractOutputValues().size() - before;
    }

    private static List<JsonNode> answers(OneInputStreamOperatorTestHarness<QueryTask, QueryTask> h) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        var side = h.getSideOutput(Replies.TAG);
        if (side != null) {
            for (StreamRecord<Reply> r : side) {
                out.add(Json.parse(r.getValue().json()));
            }
        }
        return out;
    }

    @Test
    void aTenantOverItsQuotaIsRateLimitedWithRetryAfterWhileAnotherTenantIsUntouched() throws Exception {
        try (var h = admit("quota.queries.tenants", "noisy:2")) {
            assertThat(send(h, "noisy", "n", 5)).isEqualTo(2); // a burst of one second's worth
            assertThat(send(h, "calm", "c", 50)).isEqualTo(50);

            List<JsonNode> refused = answers(h);
            assertThat(refused).hasSize(3).allSatisfy(r -> {
                assertThat(r.get("status").asText()).isEqualTo("error");
                assertThat(r.get("error").get("code").asText()).isEqualTo("rate_limited");
                assertThat(r.get("tenant").asText()).isEqualTo("noisy");
                // 2 per second: the next token is half a second away.
                assertThat(r.get("retry_after_ms").asLong()).isBetween(1L, 500L);
            });
            // Refused before dedup: a retry must get a real answer, so nothing is kept.
            assertThat(h.getSideOutput(Replies.TAG)).allSatisfy(r -> assertThat(r.getValue().answersAQuery()).isFalse());
        }
    }

    @Test
    void aRateLimitedTenantIsAdmittedAgainOnceItsBucketRefills() throws Exception {
        try (var h = admit("quota.queries.tenants", "noisy:2")) {
            assertThat(send(h, "noisy", "a", 3)).isEqualTo(2);
            long retryAfter = answers(h).get(0).get("retry_after_ms").asLong();
            h.setProcessingTime(T0 + retryAfter);
            assertThat(send(h, "noisy", "b", 2)).isEqualTo(1);
            h.setProcessingTime(T0 + 10_000);
            assertThat(send(h, "noisy", "c", 3)).isEqualTo(2); // full again, never more than the burst
        }
    }

    @Test
    void anOverrideOfZeroMeansNoLimitForThatTenant() throws Exception {
        try (var h = admit("quota.queries.per-second", "1", "quota.queries.tenants", "gold:0")) {
            assertThat(send(h, "gold", "g", 200)).isEqualTo(200);
            assertThat(send(h, "default", "d", 3)).isEqualTo(1);
            assertThat(answers(h)).extracting(r -> r.get("tenant").asText()).containsOnly("default");
        }
    }

    @Test
    void aQueryOlderThanItsLatencyBudgetIsOverloadedAndCostsNoQuota() throws Exception {
        try (var h = admit("query.max-latency", "2s", "quota.queries.tenants", "t:1")) {
            h.processElement(new StreamRecord<>(query("t", "stale", T0 - 2_001)));
            h.processElement(new StreamRecord<>(query("t", "budget-left", T0 - 1_999)));
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("budget-left");
            JsonNode shed = answers(h).get(0);
            assertThat(shed.get("request_id").asText()).isEqualTo("stale");
            assertThat(shed.get("status").asText()).isEqualTo("error");
            assertThat(shed.get("error").get("code").asText()).isEqualTo("overloaded");
            assertThat(shed.get("error").get("message").asText()).contains("waited 2001 ms");
        }
    }

    @Test
    void aQueryPastItsOwnDeadlineIsStillExpired() throws Exception {
        try (var h = admit()) {
            h.processElement(new StreamRecord<>(new QueryTask("late", "text", 3, "t", "{}", T0 - 1, -1, T0 - 10, null, null)));
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(answers(h).get(0).get("status").asText()).isEqualTo("expired");
        }
    }
}
