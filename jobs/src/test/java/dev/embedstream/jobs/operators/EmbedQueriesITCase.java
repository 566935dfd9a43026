package dev.embedstream.jobs.operators;

import static dev.embedstream.jobs.operators.EmbedQueriesTest.query;
import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.cache.SemanticCache;
import dev.embedstream.common.json.Json;
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
        var op = TestOperators.embedQueries(TestSettings.with("batch.max-size", "3", "batch.queries.max-wait", "5ms",
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
        var op = TestOperators.embedQueries(settings, RecordingEmbedder::new);
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
}
