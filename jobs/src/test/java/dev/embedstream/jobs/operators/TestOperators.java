package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.JobSettings;
import java.util.Optional;

/**
 * Operators built from whole job settings for tests, handing each the groups Pipeline.define
 * hands it, so tests keep configuring by key/value strings (TestSettings.with).
 */
final class TestOperators {

    private TestOperators() {}

    static EmbedDocuments embedDocuments(JobSettings s, EmbedderFactory model) {
        return new EmbedDocuments(s.model(), s.batch(), s.quota(), s.cache(), model);
    }

    static EmbedQueries embedQueries(JobSettings s, EmbedderFactory model) {
        return new EmbedQueries(s.model(), s.batch(), s.cache(), s.milvus(), model.space(s.model()),
                s.query().aliasRefreshMs(), model);
    }

    /** The query embedder with no Milvus: the alias does not exist, so its own collection is the route. */
    static EmbedQueries embedQueriesWithoutMilvus(JobSettings s, EmbedderFactory model) {
        return embedQueries(s, model).withAliasSource(milvus -> AliasFollowerTest.lookup(alias -> Optional.empty()));
    }

    static SearchMilvus searchMilvus(JobSettings s, EmbedderFactory model) {
        return new SearchMilvus(s.milvus(), s.query(), s.cache(), s.model(), model, model.space(s.model()));
    }

    static MilvusSink.Builder milvusSink(JobSettings s) {
        return MilvusSink.builder().withOptions(s.milvus(), s.milvusWrite(), s.cache(), s.kafka(), s.limits());
    }
}
