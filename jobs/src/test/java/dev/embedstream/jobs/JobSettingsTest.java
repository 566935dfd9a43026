package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.settings.QuerySettings;
import dev.embedstream.jobs.settings.StateSettings;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobSettingsTest {

    @Test
    void aJobRoleIsServeOrBackfill() {
        assertThat(TestSettings.with().role()).isEqualTo(dev.embedstream.jobs.settings.Role.SERVE);
        assertThat(TestSettings.with("job.role", "backfill").role()).isEqualTo(dev.embedstream.jobs.settings.Role.BACKFILL);
        assertThatThrownBy(() -> TestSettings.with("job.role", "replica")).hasMessageStartingWith("job.role ");
    }

    @Test
    void budgetsOverTheProducersRequestLimitAreRefusedAtStart() {
        assertThatCode(() -> TestSettings.with()).doesNotThrowAnyException();
        assertThatThrownBy(() -> TestSettings.with("kafka.properties.max.request.size", "500000"))
                .hasMessageContaining("response.max-bytes");
        assertThatThrownBy(() -> TestSettings.with("kafka.properties.max.request.size", "540000",
                "dlq.max-payload-bytes", "524288")).hasMessageContaining("dlq.max-payload-bytes");
        assertThatCode(() -> TestSettings.with("kafka.properties.max.request.size", "300000",
                "response.max-bytes", "128kb", "dedup.reply-max-bytes", "16kb")).doesNotThrowAnyException();
    }

    /** Every group checks its own options, and names the broken key in its message. */
    @Test
    void eachGroupRefusesItsBrokenSettingByItsKey() {
        List<String[]> broken = List.of(
                new String[] {"model.intra-op-threads", "0"},
                new String[] {"chunk.max-tokens", "100000"},
                new String[] {"batch.max-size", "0"},
                new String[] {"batch.max-tokens", "8"},
                new String[] {"cache.semantic.threshold", "1.5"},
                new String[] {"milvus.write.max-batch-rows", "0"},
                new String[] {"dlq.max-payload-bytes", "10"},
                new String[] {"query.max-in-flight", "0"},
                new String[] {"query.max-latency", "0ms"},
                new String[] {"milvus.search.default-mode", "semantic"},
                new String[] {"milvus.bm25.analyzer", "klingon"},
                new String[] {"quota.queries.per-second", "-1"},
                new String[] {"quota.queries.tenants", "acme:fast"},
                new String[] {"quota.documents.tenants", "acme:-5"},
                new String[] {"quota.max-tenants", "0"},
                new String[] {"job.max-parallelism", "0"});
        for (String[] kv : broken) {
            assertThatThrownBy(() -> TestSettings.with(kv[0], kv[1])).as(kv[0])
                    .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(kv[0] + " ");
        }
    }

    /** The rules live in each group's constructor: a group built in code (a test, a tool) cannot skip them. */
    @Test
    void aGroupBuiltInCodeIsHeldToTheSameRulesAsOneReadFromTheConfiguration() {
        JobSettings valid = TestSettings.with();
        ModelSettings m = valid.model();
        assertThatThrownBy(() -> new ModelSettings(m.name(), m.pooling(), m.maxTokens(), m.cacheDir(), m.threads(),
                m.maxTokens() + 1, m.chunkOverlapTokens(), m.chunkMaxPerDocument()))
                .hasMessageStartingWith("chunk.max-tokens ");
        StateSettings st = valid.state();
        assertThatThrownBy(() -> new StateSettings(st.dedupTtlMs(), st.queryDedupTtlMs(), 0))
                .hasMessageStartingWith("job.max-parallelism ");
        QuerySettings q = valid.query();
        assertThatThrownBy(() -> new QuerySettings(q.defaultTopK(), q.searchTimeoutMs(), 0, q.aliasRefreshMs(), q.maxLatencyMs(),
                true, 1 << 20, q.defaultMode()))
                .hasMessageStartingWith("query.max-in-flight ");
    }

    @Test
    void noGroupPrintsTheRedisPasswordTheMilvusTokenOrKafkaSecrets() {
        JobSettings s = TestSettings.with("redis.uri", "redis://:uri-secret@localhost:6379", "redis.password", "pw-secret",
                "milvus.token", "token-secret", "kafka.properties.sasl.jaas.config", "jaas-secret");
        List<Object> printed = List.of(s, s.model(), s.batch(), s.cache(), s.milvus(), s.milvusWrite(), s.kafka(),
                s.limits(), s.query(), s.state());
        for (Object group : printed) {
            assertThat(group.toString()).as(group.getClass().getSimpleName())
                    .doesNotContain("uri-secret", "pw-secret", "token-secret", "jaas-secret");
        }
        assertThat(s.cache().redisPassword()).isEqualTo("pw-secret");
        assertThat(s.milvus().token()).isEqualTo("token-secret");
    }
}
