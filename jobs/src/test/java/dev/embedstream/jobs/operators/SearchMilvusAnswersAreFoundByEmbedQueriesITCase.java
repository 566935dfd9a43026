package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The search operator stores each answer where the query embedder looks it up: both build their
 * caches through {@link Caches} with the fingerprint of the same model, so their keys agree. The
 * real operators in Flink's harness, against real Redis and Milvus Lite, with the fake model.
 */
class SearchMilvusAnswersAreFoundByEmbedQueriesITCase {

    private static QueryTask query(String id, String text) {
        return new QueryTask(id, text, 5, "default", "{}", 0, -1, System.currentTimeMillis(), null, null);
    }

    private static JsonNode onlyReply(OneInputStreamOperatorTestHarness<QueryTask, QueryTask> h, String requestId) throws Exception {
        List<Reply> replies = h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue)
                .filter(r -> r.requestId().equals(requestId)).toList();
        assertThat(replies).as("replies to " + requestId).hasSize(1);
        return Json.parse(replies.get(0).json());
    }

    private static OneInputStreamOperatorTestHarness<QueryTask, QueryTask> embedQueries(JobSettings settings) throws Exception {
        var h = new OneInputStreamOperatorTestHarness<>(TestOperators.embedQueries(settings, RecordingEmbedder::new));
        h.setup();
        h.open();
        return h;
    }

    @Test
    void whatSearchMilvusStoresEmbedQueriesServesFromTheJvmFromRedisAndToNearIdenticalQueries() throws Exception {
        RecordingEmbedder.reset();
        String collection = "sm_" + UUID.randomUUID().toString().replace('-', '_');
        JobSettings settings = TestSettings.with("batch.max-size", "1", "redis.uri", TestServers.redisUri(),
                "milvus.uri", TestServers.milvusUri(), "milvus.collection", collection, "cache.semantic.enabled", "true");
        String text = "rotate logs";
        // One document the query finds (the fake model's vectors are (text length, 1)).
        // It sits in the collection of the fake model's vector space behind the alias, as the job would write it.
        String routed;
        try (MilvusStore store = new MilvusStore(settings.milvus())) {
            VectorSpace space = ((EmbedderFactory) RecordingEmbedder::new).space(settings.model());
            routed = new CollectionAlias(store, collection).bindServing(space, true).collection();
            store.withCollection(routed).upsert(
                    List.of(new ChunkRow("doc-1", 0, "default", "how to rotate logs", "h", "{}", new float[] {11, 1})));
        }

        try (var queries = embedQueries(settings)) {
            queries.processElement(new StreamRecord<>(query("first", text)));
            QueryTask toSearch = queries.extractOutputValues().get(0);
            assertThat(toSearch.answerKey()).as("the key to store the answer under").isNotNull();

            SearchMilvus search = TestOperators.searchMilvus(settings, RecordingEmbedder::new);
            var factory = new AsyncWaitOperatorFactory<QueryTask, Reply>(search, 10_000, 10, AsyncDataStream.OutputMode.UNORDERED);
            try (var h = new OneInputStreamOperatorTestHarness<>(factory,
                    TypeInformation.of(QueryTask.class).createSerializer(new SerializerConfigImpl()))) {
                h.open();
                // The search side keys with the model's fingerprint: the key it would compute for
                // this query is the one the query embedder computed (an empty fingerprint would not be).
                RetrievalCache answers = search.caches().answers;
                Epoch epoch = answers.epochs(List.of("default")).get("default");
                assertThat(answers.key("default", epoch, text, 5, "{}")).isEqualTo(toSearch.answerKey());

                h.processElement(new StreamRecord<>(toSearch));
                h.endInput();
                List<Reply> searched = h.extractOutputValues();
                assertThat(searched).hasSize(1);
                JsonNode answer = Json.parse(searched.get(0).json());
                assertThat(answer.get("cache").asText()).isEqualTo("miss");
                assertThat(answer.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            }

            // The same question again, in the same JVM: served without the model or a search.
            queries.processElement(new StreamRecord<>(query("again", "  rotate   logs ")));
            JsonNode again = onlyReply(queries, "again");
            assertThat(again.get("cache").asText()).isEqualTo("hit");
            assertThat(again.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            // A near-identical question: the semantic entry the search stored under the query's group.
            queries.processElement(new StreamRecord<>(query("near", "rotate LOGS")));
            JsonNode near = onlyReply(queries, "near");
            assertThat(near.get("cache").asText()).isEqualTo("semantic");
            assertThat(near.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            assertThat(queries.extractOutputValues()).as("sent to search").hasSize(1);
        }

        // Another TaskManager (no in-process answers) finds the answer in Redis under the same key.
        JobSettings noL1 = TestSettings.with("batch.max-size", "1", "redis.uri", TestServers.redisUri(),
                "milvus.uri", TestServers.milvusUri(), "milvus.collection", collection, "cache.retrieval.l1-size", "0");
        try (RedisLink redis = noL1.cache().redisLink("wait")) {
            // The search's write to Redis is fire-and-forget: wait until Redis has it.
            var reader = new RetrievalCache(redis, routed, new RecordingEmbedder().fingerprint(),
                    Duration.ofMinutes(1), Duration.ofSeconds(1), 0);
            String key = reader.key("default", reader.epochs(List.of("default")).get("default"), text, 5, "{}");
            long until = System.currentTimeMillis() + 5_000;
            while (reader.getAll(List.of(key)).isEmpty() && System.currentTimeMillis() < until) {
                Thread.sleep(10);
            }
        }
        try (var elsewhere = embedQueries(noL1)) {
            elsewhere.processElement(new StreamRecord<>(query("elsewhere", text)));
            JsonNode fromRedis = onlyReply(elsewhere, "elsewhere");
            assertThat(fromRedis.get("cache").asText()).isEqualTo("hit");
            assertThat(fromRedis.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            assertThat(elsewhere.extractOutputValues()).as("sent to search").isEmpty();
        }
        assertThat(RecordingEmbedder.CALLS).as("model calls: the first query and the near one").hasSize(2);
    }
}
