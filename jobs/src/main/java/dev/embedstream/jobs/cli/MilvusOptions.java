package dev.embedstream.jobs.cli;

import dev.embedstream.common.Defaults;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Where the collections are: the Milvus options of {@code collections} and {@code migrate}. */
final class MilvusOptions {

    @Option(names = "--milvus", paramLabel = "URI", defaultValue = Defaults.MILVUS_URI,
            description = "Milvus endpoint, https:// for TLS (default: ${DEFAULT-VALUE}). The token, if Milvus needs one,"
                    + " comes from EMBEDSTREAM_MILVUS_TOKEN.")
    String uri;

    @Option(names = "--alias", paramLabel = "NAME", defaultValue = Defaults.COLLECTION,
            description = "The alias queries search: the job's milvus.collection (default: ${DEFAULT-VALUE}).")
    String alias;

    @Option(names = "--milvus-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Deadline of every Milvus call (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    MilvusStore open() {
        long ms = timeout.toMillis();
        try {
            return new MilvusStore(new MilvusSettings(uri, System.getenv("EMBEDSTREAM_MILVUS_TOKEN"), alias, ms, ms));
        } catch (RuntimeException e) {
            throw new IllegalStateException("cannot reach Milvus at " + uri + " within " + timeout.toMillis() + " ms ("
                    + CollectionsCommand.firstLine(e.getMessage()) + "); is it running? (pass --milvus URI)", e);
        }
    }
}
