package dev.embedstream.jobs.cli;

import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * What migrate does once the backfill has caught up (a picocli mixin): evaluate both collections,
 * gate on the new one's MRR@10, and swap the alias (then settle, so the serving jobs follow).
 */
final class SwapGateOptions {

    @Option(names = "--eval", paramLabel = "FILE",
            description = "JSON lines {\"text\": ..., \"relevant\": [\"doc_id\", ...], \"tenant\"?: ...}: MRR@10 and"
                    + " recall@10 of both collections once caught up.")
    Path eval;

    @Option(names = "--min-mrr", paramLabel = "X",
            description = "With --eval: fail (exit 3, no swap) when the new collection's MRR@10 is below X (0..1).")
    Double minMrr;

    @Option(names = "--from-model", paramLabel = "NAME",
            description = "With --eval: the serving collection's model when it is a directory (its stamp holds only"
                    + " the directory's name; default: the stamp's model name).")
    String fromModel;

    @Option(names = "--swap", description = "Once caught up and past the gate, point the alias at the new collection.")
    boolean swap;

    @Option(names = "--settle", paramLabel = "DURATION", defaultValue = "3s",
            description = "Wait after moving the alias, more than twice the jobs' milvus.alias-refresh (default:"
                    + " ${DEFAULT-VALUE}).")
    Duration settle;

    /** Refuses a gate without an evaluation, or outside MRR's range. */
    void validate() {
        if (minMrr != null && eval == null) {
            throw new IllegalArgumentException("--min-mrr needs --eval FILE");
        }
        if (minMrr != null && (minMrr < 0 || minMrr > 1)) {
            throw new IllegalArgumentException("--min-mrr must be within 0..1, got " + minMrr);
        }
    }
}
