package dev.embedstream.jobs.operators;

import static dev.embedstream.jobs.operators.EmbedQueriesTest.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The query embedder's answer caches, in Flink's operator harness with a fake model, against the
 * real redis-server of scripts/test.sh. Without Redis: EmbedQueriesTest.
 */
class EmbedQueriesITCase {

    @BeforeEach
    void setUp() {
        RecordingEmbedder.reset();
    }

    @Test
    void aCachedAnswerIsServedWithoutModelOrSearchUntilTheNextWrite() throws Exception {
        String collection = "eq_" + UUID.randomUUID().toString().replace('-', '_');
        var op = TestOperators.embedQueriesWithoutMilvus(TestSettings.with("batch.max-size", "3", "batch.queries.max-wait", "5ms",
                "redis.uri", TestServers.redisUri(), "milvus.collection", collection,
                "cache.retrieval.epoch-refresh", "200ms"), RecordingEmbedder::new);
        try (var h = new OneInputStreamOperatorTestHarness<>(op);
                RedisLink redis = new RedisLink("test", TestServers.redisUri(), Duration.ofSeconds(1))) {
            h.setup();
            h.open();
            h.processElement(new StreamRecord<>(query("first", 0)));
            h.setProcessingTime(5);
            QueryTask toSearch = h.extractOutputValues().get(0);
            assertThat(toSearch.answerKey()).as("a key to store the answer under").contains(collection);
            // What SearchMilvus does with its answer:
            List<Hit> answer = List.of(new Hit("doc-1", 0, 0.9, "the text", Map.of()));
            RetrievalCache searchSide = new RetrievalCache(redis, collection, "", Duration.ofMinutes(1), Duration.ofSeconds(1), 0);
            searchSide.put(toSearch.answerKey(), answer);
            // The write is fire-and-forget: wait until Redis has it, as a later query would.
            long until = System.currentTimeMillis() + 5_000;
            while (searchSide.getAll(List.of(toSearch.answerKey())).isEmpty() && System.currentTimeMillis() < until) {
                Thread.sleep(10);
            }

            QueryTask again = new QueryTask("second", toSearch.text(), 5, "default", "{}", 0, -1,
                    System.currentTimeMillis(), null, null);
            h.processElement(new StreamRecord<>(again));
            h.setProcessingTime(10); // answered on arrival when the epoch is fresh, else at the batch
            List<Reply> replies = h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
            assertThat(replies).extracting(Reply::requestId).containsExactly("second");
            var response = Json.parse(replies.get(0).json());
            assertThat(response.get("cache").asText()).isEqualTo("hit");
            assertThat(response.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            assertThat(RecordingEmbedder.CALLS).as("model calls").hasSize(1);
            assertThat(h.extractOutputValues()).as("sent to search").hasSize(1);

            // A committed write to the tenant: once the epoch is re-read the old answer is gone.
            // (to the collection the query was routed to: the model's, behind the alias)
            assertThat(toSearch.collection()).startsWith(collection + "__");
            assertThat(new CollectionEpochs(redis, toSearch.collection()).bump(List.of("default"))).isTrue();
            Thread.sleep(250);
            h.processElement(new StreamRecord<>(new QueryTask("third", toSearch.text(), 5, "default", "{}", 0, -1,
                    System.currentTimeMillis(), null, null)));
            h.setProcessingTime(20);
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("first", "third");
            assertThat(h.extractOutputValues().get(1).answerKey()).isNotEqualTo(toSearch.answerKey());
            assertThat(h.getSideOutput(Replies.TAG)).hasSize(1);
        }
    }

    @Test
    void withTheSemanticCacheOnANearIdenticalQueryReusesAnAnswerOfItsGroupOnly() throws Exception {
        String collection = "eq_" + UUID.randomUUID().toString().replace('-', '_');
        var settings = TestSettings.with("batch.max-size", "1", "redis.uri", TestServers.redisUri(),
                "milvus.collection", collection, "cache.semantic.enabled", "true");
        var op = TestOperators.embedQueriesWithoutMilvus(settings, RecordingEmbedder::new);
        try (var h = new OneInputStreamOperatorTestHarness<>(op)) {
            h.setup();
            h.open();
            h.processElement(new StreamRecord<>(new QueryTask("first", "rotate logs", 5, "default", "{}", 0, -1,
                    System.currentTimeMillis(), null, null)));
            QueryTask searched = h.extractOutputValues().get(0);
            // What SearchMilvus does with its answer (the fake model's vector depends on text length only):
            new SemanticCache(settings.cache().semanticThreshold(), settings.cache().semanticBytes(),
                    Duration.ofMillis(settings.cache().retrievalTtlMs())).put(SemanticCache.groupOf(searched.answerKey()), searched.vector(),
                    List.of(new Hit("doc-1", 0, 0.9, "t", Map.of())));

            h.processElement(new StreamRecord<>(new QueryTask("same-length", "rotate LOGS", 5, "default", "{}", 0, -1,
                    System.currentTimeMillis(), null, null)));
            h.processElement(new StreamRecord<>(new QueryTask("other-top-k", "rotate LOGS", 3, "default", "{}", 0, -1,
                    System.currentTimeMillis(), null, null)));
            h.processElement(new StreamRecord<>(new QueryTask("other-tenant", "rotate LOGS", 5, "acme", "{}", 0, -1,
                    System.currentTimeMillis(), null, null)));
            List<Reply> replies = h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
            assertThat(replies).extracting(Reply::requestId).containsExactly("same-length");
            assertThat(Json.parse(replies.get(0).json()).get("cache").asText()).isEqualTo("semantic");
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId)
                    .containsExactly("first", "other-top-k", "other-tenant");
        }
    }

    @Test
    void aQueryRoutedToACollectionWhoseModelCannotBeLoadedIsAnsweredModelUnavailable() throws Exception {
        String alias = "eq_" + UUID.randomUUID().toString().replace('-', '_');
        var settings = TestSettings.with("milvus.uri", TestServers.milvusUri(), "milvus.collection", alias,
                "milvus.alias-refresh", "100ms");
        // The alias serves a collection of a model this TaskManager does not have.
        try (MilvusStore store = new MilvusStore(settings.milvus())) {
            CollectionAlias collections = new CollectionAlias(store, alias);
            collections.bindServing(((EmbedderFactory) RecordingEmbedder::new).space(settings.model()), true);
            VectorSpace missing = new VectorSpace("no-such-model", "ab".repeat(32), "mean", 2, 256, 256, 32,
                    VectorSpace.L2, ChunkRow.ID_SCHEME);
            collections.swapTo(collections.ensure(missing).collection());
        }
        var op = TestOperators.embedQueries(settings, RecordingEmbedder::new);
        try (var h = new OneInputStreamOperatorTestHarness<>(op)) {
            h.setup();
            h.open(); // reads the alias before the first query
            h.processElement(new StreamRecord<>(query("lost", 0)));
            List<Reply> replies = h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
            assertThat(replies).extracting(Reply::requestId).containsExactly("lost");
            var answer = Json.parse(replies.get(0).json());
            assertThat(answer.get("status").asText()).isEqualTo("error");
            assertThat(answer.get("error").get("code").asText()).isEqualTo("model_unavailable");
            assertThat(answer.get("error").get("message").asText()).contains(alias + "__no_such_model__");
            assertThat(h.extractOutputValues()).as("nothing sent on to search").isEmpty();
            assertThat(RecordingEmbedder.CALLS).as("no model call").isEmpty();
        }
    }
}
