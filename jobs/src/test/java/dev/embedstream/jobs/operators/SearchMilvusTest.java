package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * A failing or silent Milvus yields an error response for every query, never silence; a query
 * that would wait for a search past its deadline is answered {@code overloaded} at once.
 */
class SearchMilvusTest {

    private static List<Reply> run(String milvusUri, long timeoutMs, QueryTask... queries) throws Exception {
        SearchMilvus search = TestOperators.searchMilvus(TestSettings.with("milvus.uri", milvusUri,
                "milvus.rpc-timeout", "1s", "query.search-timeout", timeoutMs + "ms"), RecordingEmbedder::new);
        var factory = new AsyncWaitOperatorFactory<QueryTask, Reply>(search, timeoutMs, 10, AsyncDataStream.OutputMode.UNORDERED);
        try (var h = new OneInputStreamOperatorTestHarness<>(factory,
                TypeInformation.of(QueryTask.class).createSerializer(new SerializerConfigImpl()))) {
            h.open();
            for (QueryTask q : queries) {
                h.processElement(new StreamRecord<>(q));
            }
            h.endInput();
            return new ArrayList<>(h.extractOutputValues());
        }
    }

    /**
     * Runs the queries through the operator with every search taking {@code searchMs} (no Milvus),
     * after a first search that measures it; returns each answer by request id. The queries are
     * made after that first search, so their deadlines count from then.
     */
    private static Map<String, JsonNode> runSlow(long searchMs, Supplier<List<QueryTask>> queries, String... keyValues)
            throws Exception {
        JobSettings s = TestSettings.with(keyValues);
        EmbedderFactory model = RecordingEmbedder::new;
        SearchMilvus search = new SearchMilvus(s.milvus(), s.query(), s.cache(), s.model(), model, model.space(s.model())) {
            @Override
            Reply search(QueryTask q) {
                try {
                    Thread.sleep(searchMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return Replies.of(q, Response.ok(q.requestId(), List.of(), "miss", "slow", searchMs));
            }
        };
        var factory = new AsyncWaitOperatorFactory<QueryTask, Reply>(search, 30_000, 64, AsyncDataStream.OutputMode.UNORDERED);
        try (var h = new OneInputStreamOperatorTestHarness<>(factory,
                TypeInformation.of(QueryTask.class).createSerializer(new SerializerConfigImpl()))) {
            h.open();
            h.processElement(new StreamRecord<>(query("warm-up")));
            Thread.sleep(searchMs + 100); // the warm-up search is measured on its search thread
            for (QueryTask q : queries.get()) {
                h.processElement(new StreamRecord<>(q));
            }
            h.endInput();
            Map<String, JsonNode> byId = new ConcurrentHashMap<>();
            for (Reply r : h.extractOutputValues()) {
                byId.put(r.requestId(), Json.parse(r.json()));
            }
            return byId;
        }
    }

    private static QueryTask query(String id, long deadlineMs) {
        return new QueryTask(id, "text", 3, "t", "{}", deadlineMs, -1, System.currentTimeMillis(), new float[] {1, 0, 0},
                null);
    }

    @Test
    void queriesWhoseExpectedWaitPassesTheirDeadlineAreOverloadedAtOnceTheOthersAnswered() throws Exception {
        Map<String, JsonNode> answers = runSlow(300, () -> {
            long now = System.currentTimeMillis();
            List<QueryTask> queries = new ArrayList<>();
            // The limit starts at 8: 8 search at once, the next 8 wait about one search (300 ms).
            for (int i = 0; i < 16; i++) {
                queries.add(query("fits-" + i, now + 5_000));
            }
            // These would be answered after 2 more searches (600 ms): past a 200 ms deadline.
            for (int i = 0; i < 4; i++) {
                queries.add(query("hurried-" + i, now + 200));
            }
            return queries;
        }, "query.max-in-flight", "16", "query.max-latency", "10s");
        assertThat(answers).hasSize(21);
        for (int i = 0; i < 16; i++) {
            assertThat(answers.get("fits-" + i).get("status").asText()).as("fits-" + i).isEqualTo("ok");
        }
        for (int i = 0; i < 4; i++) {
            JsonNode shed = answers.get("hurried-" + i);
            assertThat(shed.get("status").asText()).isEqualTo("error");
            assertThat(shed.get("error").get("code").asText()).isEqualTo("overloaded");
            // Two searches of about 300 ms each (as measured) until its own would end.
            assertThat(shed.get("error").get("message").asText()).containsPattern("answer expected in [6-9]\\d\\d ms");
            // took_ms: answered when asked, not after the searches ahead of it.
            assertThat(shed.get("took_ms").asLong()).isLessThan(200);
        }
    }

    @Test
    void aQueryWithoutDeadlineIsOverloadedWhenItsWaitPassesTheLatencyBudget() throws Exception {
        // max-in-flight 2: the limit is 2 and 2 may wait; searches of 300 ms; a budget of 700 ms.
        Map<String, JsonNode> answers = runSlow(300, () -> {
            List<QueryTask> queries = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                queries.add(query("q-" + i, 0));
            }
            return queries;
        }, "query.max-in-flight", "2", "query.max-latency", "700ms");
        assertThat(answers.values()).extracting(a -> a.path("error").path("code").asText(a.get("status").asText()))
                .containsOnly("ok", "overloaded");
        assertThat(answers.get("q-0").get("status").asText()).isEqualTo("ok");
        assertThat(answers.get("q-11").get("error").get("code").asText()).isEqualTo("overloaded");
        assertThat(answers.values()).allSatisfy(a -> assertThat(a.get("took_ms").asLong()).isLessThan(700 + 300 + 100));
    }

    private static QueryTask query(String id) {
        return new QueryTask(id, "text", 3, "default", "{}", 0, -1, System.currentTimeMillis(), new float[] {1, 0, 0}, null);
    }

    @Test
    void unreachableMilvusGivesAnErrorResponse() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        List<Reply> replies = run("http://127.0.0.1:" + closedPort, 5_000, query("a"), query("b"));
        assertThat(replies).extracting(Reply::requestId).containsExactlyInAnyOrder("a", "b");
        assertThat(replies).allSatisfy(r -> {
            assertThat(r.status()).isEqualTo("error");
            assertThat(Json.parse(r.json()).get("error").get("code").asText()).isIn("search_failed", "search_timeout");
        });
    }

    @Test
    void silentMilvusGivesATimeoutErrorWithinTheSearchBudget() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // accept and never answer
                    }
                } catch (Exception ignored) {
                    // closed at the end of the test
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            long t0 = System.currentTimeMillis();
            List<Reply> replies = run("http://127.0.0.1:" + silent.getLocalPort(), 1_500, query("slow"));
            assertThat(System.currentTimeMillis() - t0).isLessThan(10_000);
            assertThat(replies).hasSize(1);
            assertThat(replies.get(0).status()).isEqualTo("error");
        }
    }

    @Test
    void theKeywordLegOfAHugeQueryReadsOnlyItsFirst8192Characters() {
        String huge = "term ".repeat(100_000);
        QueryTask q = new QueryTask("big", huge, 5, "default", "{}", 0, -1, 0, null, null, null, null, "keyword", true);
        assertThat(SearchMilvus.keywordText(q)).hasSize(SearchMilvus.KEYWORD_TEXT_CHARS).isEqualTo(huge.substring(0, 8192));
        QueryTask small = new QueryTask("s", "rotate logs", 5, "default", "{}", 0, -1, 0, null, null, null, null, "keyword", true);
        assertThat(SearchMilvus.keywordText(small)).isEqualTo("rotate logs");
    }

    @Test
    void onlyAFailureToReachMilvusCountsAsUnreachable() {
        assertThat(dev.embedstream.common.milvus.MilvusStore.unreachable(
                new RuntimeException("DEADLINE_EXCEEDED: deadline exceeded after 9.99s"))).isTrue();
        assertThat(dev.embedstream.common.milvus.MilvusStore.unreachable(new RuntimeException("UNAVAILABLE: io exception")))
                .isTrue();
        assertThat(dev.embedstream.common.milvus.MilvusStore.unreachable(
                new RuntimeException("failed to search: empty query text after analysis"))).isFalse();
    }
}
