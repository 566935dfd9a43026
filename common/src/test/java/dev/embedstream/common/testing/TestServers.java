package dev.embedstream.common.testing;

import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import java.nio.file.Path;

/**
 * The real servers a test talks to, started by {@code scripts/test.sh} on free ports and passed
 * in through the environment. A test that needs one fails loudly when it is missing: a silent skip
 * would let CI pass without ever exercising the server.
 */
public final class TestServers {

    private static ModelSpec defaultModel;

    private TestServers() {}

    public static String kafkaBootstrap() {
        return required("EMBEDSTREAM_TEST_KAFKA");
    }

    public static String milvusUri() {
        return required("EMBEDSTREAM_TEST_MILVUS_URI");
    }

    public static String redisUri() {
        return required("EMBEDSTREAM_TEST_REDIS_URI");
    }

    /** The Prometheus server binary that scripts/test.sh installed (Debian's {@code prometheus}). */
    public static String prometheusBinary() {
        return required("EMBEDSTREAM_TEST_PROMETHEUS");
    }

    /** The default model, extracted from its Maven artifact into target/. */
    public static synchronized ModelSpec defaultModel() {
        if (defaultModel == null) {
            defaultModel = ModelCatalog.resolve(ModelCatalog.DEFAULT_MODEL, null, 256, modelCache());
        }
        return defaultModel;
    }

    public static Path modelCache() {
        return Path.of(System.getProperty("java.io.tmpdir"), "embedstream-test-models");
    }

    public static EmbeddingEngine openDefaultEngine() {
        return EmbeddingEngine.open(defaultModel(), 2);
    }

    private static String required(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set: run the tests through scripts/test.sh, "
                    + "which starts Kafka, Milvus Lite and Redis and exports their addresses");
        }
        return v;
    }
}
