package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * DedupQueries and ReplyCache together make a repeated query cost no second computation, keep
 * the request ids of tenants apart, and never answer a query with another query's answer.
 */
class QueryDedupTest {

    private static final long TTL = 600_000;
    private static final int RESPONSE_BUDGET = 512 * 1024;
    private static final int STORED_BUDGET = 16 * 1024;

    private static QueryTask query(String tenant, String id, String text) {
        return new QueryTask(id, text, 5, tenant, "{}", 0, -1, 0, null, null);
    }

    private static QueryTask query(String id) {
        return query("default", id, "text");
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, QueryTask, QueryTask> dedup() throws Exception {
        return dedup(null);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, QueryTask, QueryTask> dedup(OperatorSubtaskState state)
            throws Exception {
        var h = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new DedupQueries(TTL)), QueryTask::key, Types.STRING);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Reply, QueryTask, Reply> replyCache() throws Exception {
        return replyCache(null);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<String, Reply, QueryTask, Reply> replyCache(
            OperatorSubtaskState state) throws Exception {
        var h = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new ReplyCache(TTL, RESPONSE_BUDGET, STORED_BUDGET)),
                Reply::key, QueryTask::key, Types.STRING);
        h.setup();
        if (state != null) {
            h.initializeState(state);
        }
        h.open();
        return h;
    }

    private static Reply answer(QueryTask q, String docId) {
        return Replies.of(q, Response.ok(q.requestId(), List.of(new Hit(docId, 0, 0.9, "the text", Map.of())), "miss", "m", 12));
    }

    private static List<Reply> conflicts(KeyedOneInputStreamOperatorTestHarness<String, QueryTask, QueryTask> h) {
        return h.getSideOutput(Replies.TAG) == null ? List.of()
                : h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void repeatedRequestIdIsNotComputedTwice() throws Exception {
        try (var h = dedup()) {
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
    void sameRequestIdInTwoTenantsIsTwoQueries() throws Exception {
        QueryTask acme = query("acme", "q1", "quarterly revenue");
        QueryTask globex = query("globex", "q1", "quarterly revenue");
        try (var h = dedup()) {
            h.processElement(new StreamRecord<>(acme));
            h.processElement(new StreamRecord<>(globex));
            h.processElement(new StreamRecord<>(query("globex", "q1", "something else entirely")));
            assertThat(h.extractOutputValues()).as("both tenants' queries are computed")
                    .extracting(QueryTask::tenant).containsExactly("acme", "globex");
            assertThat(h.getSideOutput(DedupQueries.REPEATS)).as("neither is a repeat of the other").isNull();
            assertThat(conflicts(h)).as("globex's own reuse conflicts with globex's first query only")
                    .extracting(Reply::requestId, Reply::status).containsExactly(org.assertj.core.groups.Tuple.tuple("q1", "error"));
        }
        try (var h = replyCache()) {
            Reply acmeAnswer = answer(acme, "acme-secret-doc");
            h.processElement1(new StreamRecord<>(acmeAnswer));
            h.processElement2(new StreamRecord<>(globex)); // were it keyed by request id alone, acme's answer would go out
            assertThat(h.extractOutputValues()).as("only acme's own answer, once").containsExactly(acmeAnswer);
            h.processElement2(new StreamRecord<>(acme));
            assertThat(h.extractOutputValues()).extracting(Reply::tenant).containsExactly("acme", "acme");
        }
    }

    @Test
    void aRepeatWithADifferentQueryIsARequestIdConflict() throws Exception {
        QueryTask first = query("acme", "q1", "rotate logs");
        QueryTask[] reuses = {
            query("acme", "q1", "delete logs"),
            new QueryTask("q1", "rotate logs", 6, "acme", "{}", 0, -1, 0, null, null),
            new QueryTask("q1", "rotate logs", 5, "acme", "{\"lang\":\"en\"}", 0, -1, 0, null, null),
        };
        try (var h = dedup()) {
            h.processElement(new StreamRecord<>(first));
            for (QueryTask reuse : reuses) {
                h.processElement(new StreamRecord<>(reuse));
            }
            // A retry of the first query, with a new deadline and reply partition, is still a repeat.
            h.processElement(new StreamRecord<>(new QueryTask("q1", "rotate logs", 5, "acme", "{}", 99, 3, 7, null, null)));

            assertThat(h.extractOutputValues()).as("only the first query is computed").containsExactly(first);
            assertThat(h.getSideOutput(DedupQueries.REPEATS)).extracting(r -> r.getValue().deadlineMs()).containsExactly(99L);
            List<Reply> conflicts = conflicts(h);
            assertThat(conflicts).hasSize(3).allSatisfy(r -> {
                Response response = Json.read(r.json(), Response.class);
                assertThat(response.requestId()).isEqualTo("q1");
                assertThat(response.status()).isEqualTo("error");
                assertThat(response.hits()).isNull();
                assertThat(response.error().code()).isEqualTo("request_id_conflict");
                assertThat(response.error().message()).contains("already used").contains("different query");
                assertThat(r.answersAQuery()).as("a conflict answer is never kept").isFalse();
            });

            try (var cache = replyCache()) {
                Reply firstAnswer = answer(first, "doc-rotate");
                cache.processElement1(new StreamRecord<>(firstAnswer));
                for (Reply conflict : conflicts) {
                    cache.processElement1(new StreamRecord<>(conflict));
                }
                cache.processElement2(new StreamRecord<>(first));
                List<Reply> out = cache.extractOutputValues();
                assertThat(out).hasSize(5);
                assertThat(out.get(4)).as("the stored first answer is left intact").isEqualTo(firstAnswer);
                cache.processElement2(new StreamRecord<>(reuses[0]));
                assertThat(cache.extractOutputValues()).as("a different query never gets the stored answer").hasSize(5);
            }
        }
    }

    @Test
    void digestsAndStoredAnswersSurviveSnapshotAndRestore() throws Exception {
        QueryTask first = query("acme", "q1", "rotate logs");
        OperatorSubtaskState dedupState;
        OperatorSubtaskState cacheState;
        Reply firstAnswer = answer(first, "doc-rotate");
        try (var h = dedup(); var cache = replyCache()) {
            h.processElement(new StreamRecord<>(first));
            cache.processElement1(new StreamRecord<>(firstAnswer));
            dedupState = h.snapshot(1, 1);
            cacheState = cache.snapshot(1, 1);
        }
        try (var h = dedup(dedupState); var cache = replyCache(cacheState)) {
            h.processElement(new StreamRecord<>(first));
            h.processElement(new StreamRecord<>(query("acme", "q1", "delete logs")));
            assertThat(h.extractOutputValues()).as("the restored digest still knows q1").isEmpty();
            assertThat(h.getSideOutput(DedupQueries.REPEATS)).hasSize(1);
            assertThat(conflicts(h)).extracting(r -> Json.read(r.json(), Response.class).error().code())
                    .containsExactly("request_id_conflict");
            cache.processElement2(new StreamRecord<>(first));
            assertThat(cache.extractOutputValues()).as("the restored answer is re-sent").containsExactly(firstAnswer);
        }
    }

    @Test
    void aRepeatIsAnsweredWithTheFirstAnswer() throws Exception {
        try (var h = replyCache()) {
            Reply answer = answer(query("q1"), "doc-1");
            h.processElement2(new StreamRecord<>(query("q0"))); // a repeat whose answer is still in flight
            h.processElement1(new StreamRecord<>(answer));
            h.processElement2(new StreamRecord<>(query("q1")));
            assertThat(h.extractOutputValues()).containsExactly(answer, answer);
        }
    }

    @Test
    void anAnswerToNoDeduplicatedQueryIsSentButNeverKept() throws Exception {
        try (var h = replyCache()) {
            Reply parseError = Replies.unkept(Response.error("q1", "invalid_top_k", "bad top_k", 1), -1);
            h.processElement1(new StreamRecord<>(parseError));
            h.processElement2(new StreamRecord<>(query("q1")));
            assertThat(h.extractOutputValues()).containsExactly(parseError);
        }
    }

    private static Reply oversized(QueryTask q) {
        List<Hit> hits = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            hits.add(new Hit("doc-" + i, 0, 0.9, "x".repeat(60_000), Map.of("body", "m".repeat(16 * 1024))));
        }
        return Replies.of(q, Response.ok(q.requestId(), hits, "miss", "m", 12));
    }

    private static int bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }

    @Test
    void anOversizedAnswerLeavesCutUnderTheResponseBudgetAndSaysTruncated() throws Exception {
        try (var h = replyCache()) {
            QueryTask q = query("q1");
            Reply huge = oversized(q);
            assertThat(bytes(huge.json())).isGreaterThan(7_000_000);
            h.processElement1(new StreamRecord<>(huge));
            Reply sent = h.extractOutputValues().get(0);
            assertThat(bytes(sent.json())).isLessThanOrEqualTo(RESPONSE_BUDGET);
            Response response = Json.read(sent.json(), Response.class);
            assertThat(response.truncated()).isTrue();
            assertThat(response.hits()).hasSize(100);
        }
    }

    @Test
    void storedAnswersAreBounded() throws Exception {
        try (var h = replyCache()) {
            QueryTask q = query("q1");
            h.processElement1(new StreamRecord<>(oversized(q)));

            var backend = h.getOperator().getKeyedStateBackend();
            backend.setCurrentKey(q.key());
            ReplyCache.Stored stored = backend.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    TtlState.value("query-answer", ReplyCache.Stored.class, TTL)).value();
            assertThat(stored.digest()).isEqualTo(q.digest());
            assertThat(bytes(ReplyCache.inflate(stored.deflatedJson()))).isLessThanOrEqualTo(STORED_BUDGET);
            // Deflate never grows data by more than a few bytes per 16 KiB block plus its header.
            assertThat(stored.deflatedJson().length).isLessThanOrEqualTo(STORED_BUDGET + 64);

            h.processElement2(new StreamRecord<>(q));
            Reply resent = h.extractOutputValues().get(1);
            assertThat(bytes(resent.json())).isLessThanOrEqualTo(STORED_BUDGET);
            Response response = Json.read(resent.json(), Response.class);
            assertThat(response.truncated()).as("a re-sent answer says it was cut").isTrue();
            assertThat(response.requestId()).isEqualTo("q1");
            assertThat(response.hits()).isNotEmpty();
        }
    }
}
