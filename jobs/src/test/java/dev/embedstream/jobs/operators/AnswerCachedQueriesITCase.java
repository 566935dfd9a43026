package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.cache.CollectionEpochs;
import dev.embedstream.common.cache.CollectionEpochs.Epoch;
import dev.embedstream.common.cache.RedisLink;
import dev.embedstream.common.cache.RetrievalCache;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.TestSettings;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The cache-hit fast path in Flink's operator harness, against the real redis-server and Milvus
 * of scripts/test.sh: a hit is answered through the fast path's own output and nothing goes on to
 * the embedder or the search; misses, stale epochs and repeats go the slow way; a different query
 * under a used request id is a conflict.
 */
class AnswerCachedQueriesITCase {

    private String collection;
    private JobSettings settings;
    private VectorSpace space;

    @BeforeEach
    void setUp() {
        RecordingEmbedder.reset();
        collection = "fp_" + UUID.randomUUID().toString().replace('-', '_');
        settings = TestSettings.with("redis.uri", TestServers.redisUri(), "milvus.uri", TestServers.milvusUri(),
                "milvus.collection", collection, "cache.retrieval.epoch-refresh", "200ms");
    }

    private final EmbedderFactory model = RecordingEmbedder::new;

    private OneInputStreamOperatorTestHarness<QueryTask, QueryTask> harness(boolean enabled) throws Exception {
        space = model.space(settings.model());
        var op = new AnswerCachedQueries(enabled, settings.cache(), settings.milvus(), space, settings.query().aliasRefreshMs(),
                model, 60_000, 1 << 20, 512 * 1024);
        var h = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(op));
        h.setup();
        h.open();
        return h;
    }

    private static QueryTask query(String requestId, String text, String tenant) {
        return new QueryTask(requestId, text, 5, tenant, "{}", 0, -1, System.currentTimeMillis(), null, null);
    }

    /** What SearchMilvus stores after answering {@code text} for {@code tenant}: returns once L1 has it. */
    private void answerIsCached(RedisLink redis, String tenant, String text, List<Hit> hits) {
        RetrievalCache searchSide = new RetrievalCache(redis, space.collectionName(collection), model.fingerprint(),
                Duration.ofMillis(settings.cache().retrievalTtlMs()), Duration.ofSeconds(1), settings.cache().retrievalL1Bytes());
        Epoch epoch = searchSide.epochs(List.of(tenant)).get(tenant);
        searchSide.put(searchSide.key(tenant, epoch, text, 5, "{}"), hits);
    }

    private static List<Reply> answered(OneInputStreamOperatorTestHarness<QueryTask, QueryTask> h) {
        var out = h.getSideOutput(AnswerCachedQueries.ANSWERED);
        return out == null ? List.of() : out.stream().map(StreamRecord::getValue).toList();
    }

    private static void awaitFreshEpoch() throws InterruptedException {
        // The refresher reads asked tenants' epochs every half epoch-refresh (100 ms); its Redis
        // connection is made on the first round.
        Thread.sleep(1_000);
    }

    @Test
    void aHitIsAnsweredHereAndNeverReachesTheEmbedderOrTheSearch() throws Exception {
        try (var h = harness(true); RedisLink redis = new RedisLink("test", TestServers.redisUri(), Duration.ofSeconds(1))) {
            answerIsCached(redis, "default", "rotate logs", List.of(new Hit("doc-1", 0, 0.9, "the text", Map.of())));
            h.processElement(new StreamRecord<>(query("first", "rotate logs", "default")));
            assertThat(h.extractOutputValues()).as("the tenant's epoch is not fresh yet: the slow way")
                    .extracting(QueryTask::requestId).containsExactly("first");
            awaitFreshEpoch();

            h.processElement(new StreamRecord<>(query("second", "rotate logs", "default")));
            assertThat(answered(h)).extracting(Reply::requestId).containsExactly("second");
            var response = Json.parse(answered(h).get(0).json());
            assertThat(response.get("status").asText()).isEqualTo("ok");
            assertThat(response.get("cache").asText()).isEqualTo("hit");
            assertThat(response.get("tenant").asText()).isEqualTo("default");
            assertThat(response.get("hits").get(0).get("doc_id").asText()).isEqualTo("doc-1");
            assertThat(h.extractOutputValues()).as("nothing more went on to dedup, the embedder or the search")
                    .extracting(QueryTask::requestId).containsExactly("first");
            assertThat(RecordingEmbedder.CALLS).as("model calls").isEmpty();

            // Another tenant's identical question is never answered from this tenant's answer.
            h.processElement(new StreamRecord<>(query("other", "rotate logs", "acme")));
            awaitFreshEpoch();
            h.processElement(new StreamRecord<>(query("other-2", "rotate logs", "acme")));
            assertThat(answered(h)).extracting(Reply::requestId).containsExactly("second");

            // A committed write to the tenant: once the epoch is re-read, the old answer is not served.
            assertThat(new CollectionEpochs(redis, space.collectionName(collection)).bump(List.of("default"))).isTrue();
            awaitFreshEpoch();
            h.processElement(new StreamRecord<>(query("third", "rotate logs", "default")));
            assertThat(answered(h)).extracting(Reply::requestId).containsExactly("second");
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId)
                    .containsExactly("first", "other", "other-2", "third");
        }
    }

    @Test
    void aRequestIdKeepsItsMeaningOnTheFastPath() throws Exception {
        try (var h = harness(true); RedisLink redis = new RedisLink("test", TestServers.redisUri(), Duration.ofSeconds(1))) {
            answerIsCached(redis, "default", "rotate logs", List.of(new Hit("doc-1", 0, 0.9, "the text", Map.of())));
            h.processElement(new StreamRecord<>(query("warm", "something else", "default")));
            awaitFreshEpoch();
            h.processElement(new StreamRecord<>(query("q-1", "rotate logs", "default")));
            h.processElement(new StreamRecord<>(query("q-1", "rotate logs", "default")));
            h.processElement(new StreamRecord<>(query("q-1", "a different question", "default")));
            h.processElement(new StreamRecord<>(query("q-1", "a different question", "acme")));

            assertThat(answered(h)).as("the first ask only").extracting(Reply::requestId).containsExactly("q-1");
            assertThat(h.extractOutputValues()).as("the repeat and the other tenant's own q-1 go the slow way")
                    .extracting(q -> q.tenant() + "/" + q.requestId() + "/" + q.text())
                    .containsExactly("default/warm/something else", "default/q-1/rotate logs", "acme/q-1/a different question");
            List<Reply> conflicts = h.getSideOutput(Replies.TAG).stream().map(StreamRecord::getValue).toList();
            assertThat(conflicts).hasSize(1);
            assertThat(Json.parse(conflicts.get(0).json()).get("error").get("code").asText())
                    .isEqualTo(Replies.REQUEST_ID_CONFLICT);
        }
    }

    @Test
    void turnedOffEveryQueryGoesTheSlowWay() throws Exception {
        try (var h = harness(false); RedisLink redis = new RedisLink("test", TestServers.redisUri(), Duration.ofSeconds(1))) {
            answerIsCached(redis, "default", "rotate logs", List.of(new Hit("doc-1", 0, 0.9, "the text", Map.of())));
            h.processElement(new StreamRecord<>(query("first", "rotate logs", "default")));
            awaitFreshEpoch();
            h.processElement(new StreamRecord<>(query("second", "rotate logs", "default")));
            assertThat(answered(h)).isEmpty();
            assertThat(h.extractOutputValues()).extracting(QueryTask::requestId).containsExactly("first", "second");
        }
    }
}
