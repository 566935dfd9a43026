package dev.embedstream.jobs;

import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.operators.EmbedderFactory;
import dev.embedstream.jobs.settings.ModelSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A chunk collection created by hand with pymilvus (an independent client), stamped with this
 * version's id scheme but with {@code doc_id} limited to 64 characters: Milvus itself then refuses
 * any row of a document whose doc_id is longer, the real rejection the poison test needs. It is
 * the collection of the default model's vector space behind the alias, as the job names and
 * stamps it, so the job writes into it.
 */
final class PoisonCollection {

    /** Valid for embedstream (up to 512 bytes), too long for this collection's doc_id field. */
    static final String REFUSED_DOC_ID = "refused-by-milvus-" + "x".repeat(80);

    private PoisonCollection() {}

    static void create(String alias) throws Exception {
        ModelSettings model = TestSettings.with().model();
        VectorSpace space = EmbedderFactory.onnx(model).space(model);
        String collection = space.collectionName(alias);
        String python = System.getenv().getOrDefault("EMBEDSTREAM_TEST_MILVUS_VENV", "") + "/bin/python";
        Path script = Path.of("src", "test", "resources", "precreate_collection.py");
        Process p = new ProcessBuilder(python, script.toString(), TestServers.milvusUri(), collection,
                String.valueOf(space.dimension()), alias, MilvusStore.ID_SCHEME_PROPERTY + "=" + ChunkRow.ID_SCHEME,
                VectorSpace.PROPERTY + "=" + space.json()).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("pymilvus did not create " + collection + " within 60 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("pymilvus could not create " + collection + ": " + out);
        }
    }
}
