package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.json.Json;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** A failing or silent Milvus yields an error response for every query, never silence. */
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
}
