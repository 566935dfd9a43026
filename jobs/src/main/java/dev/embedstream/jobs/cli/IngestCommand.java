package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.Hashing;
import dev.embedstream.common.filter.FilterCompiler;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** Publishes a JSONL file of document events, keyed by doc_id, with a progress bar. */
@Command(name = "ingest", mixinStandardHelpOptions = true, description = "Publish document events from a JSONL file.")
final class IngestCommand implements Callable<Integer> {

    private static final int POLL_BATCH = 200;

    @ParentCommand
    EmbedstreamCli cli;

    @Parameters(paramLabel = "FILE.jsonl", description = "One document event (JSON object) per line.")
    Path file;

    @Option(names = "--await-milvus", paramLabel = "URI", description = "Then wait until Milvus at URI holds every published document.")
    String awaitMilvus;

    @Option(names = "--collection", defaultValue = Defaults.COLLECTION, description = "Milvus collection for --await-milvus (default: ${DEFAULT-VALUE}).")
    String collection;

    @Option(names = "--await-timeout", defaultValue = "10m", description = "Longest wait for --await-milvus (default: ${DEFAULT-VALUE}).")
    Duration awaitTimeout;

    @Option(names = "--await-dedup", paramLabel = "METRICS_URL",
            description = "Then wait until the job's dedupDropped counter (summed over subtasks, read from its Prometheus "
                    + "endpoint METRICS_URL) has grown by the number of published upserts: for a re-ingest of unchanged "
                    + "documents, which never reach Milvus.")
    String awaitDedup;

    @Option(names = "--out", description = "With --await-milvus or --await-dedup, also write the figures as JSON to this file.")
    Path out;

    @Override
    public Integer call() throws Exception {
        long lines;
        try (var s = Files.lines(file, StandardCharsets.UTF_8)) {
            lines = s.filter(l -> !l.isBlank()).count();
        }
        List<String> upserted = new ArrayList<>();
        int skipped = 0;
        double droppedBefore = awaitDedup == null ? 0 : DedupCounter.read(awaitDedup);
        long started = 0;
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        try (DocumentPublisher publisher = new DocumentPublisher(cli.kafkaProps());
                BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                ProgressBar bar = new ProgressBarBuilder().setTaskName("ingest").setInitialMax(lines)
                        .setStyle(ProgressBarStyle.ASCII).setUnit(" docs", 1).continuousUpdate().build()) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String docId = docId(line);
                if (docId == null) {
                    skipped++; // still sent: the pipeline dead-letters it with its reason
                } else if (!line.contains("\"delete\"")) {
                    upserted.add(docId);
                }
                if (started == 0) {
                    started = System.nanoTime(); // the clock starts at the first send, not at client set-up
                }
                // Asynchronous: the producer's bounded buffer (buffer.memory, max.block.ms) paces us.
                publisher.send(cli.documentsTopic, key(line), line, (meta, error) -> {
                    if (error != null) {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, error);
                    }
                    bar.step();
                });
            }
            publisher.flush();
        }
        if (failed.get() > 0) {
            System.err.printf("%d of %d events could not be published: %s%n", failed.get(), lines, firstError.get().getMessage());
            return 1;
        }
        System.out.printf("published %d events to %s (%d without a readable doc_id)%n", lines, cli.documentsTopic, skipped);
        if (awaitMilvus != null || awaitDedup != null) {
            boolean all = awaitMilvus != null ? awaitInMilvus(upserted)
                    : DedupCounter.awaitAtLeast(awaitDedup, droppedBefore + upserted.size(), awaitTimeout);
            double seconds = (System.nanoTime() - started) / 1e9;
            System.out.printf("ingest: %d documents in %.2f s from first publish to %s = %.1f documents/s%n",
                    upserted.size(), seconds, awaitMilvus != null ? "last row in Milvus" : "last one dropped as unchanged",
                    upserted.size() / seconds);
            if (out != null) {
                Files.writeString(out, Json.write(java.util.Map.of("documents", upserted.size(), "seconds", seconds,
                        "documents_per_s", upserted.size() / seconds, "complete", all)));
            }
            return all ? 0 : 1;
        }
        return 0;
    }

    /**
     * The record key: the document's identity {@code <tenant>:<doc_id>}, so a document's events
     * stay in one partition and a compacted topic keeps one record per document.
     */
    static String key(String line) {
        try {
            JsonNode n = Json.parse(line);
            if (n.path("doc_id").isTextual()) {
                return (n.path("tenant").isTextual() ? n.get("tenant").asText() : Defaults.TENANT) + ":" + n.get("doc_id").asText();
            }
        } catch (Exception e) {
            // not JSON: keyed below
        }
        // A compacted topic refuses a record without a key, and this line must still reach the job
        // (its dead letter says what is wrong with it). Distinct lines keep distinct keys; "!" is
        // never in a tenant, so the key names doc_id "!unparsed:<sha256>" of the default tenant,
        // which no producer's document is: a tombstone with it deletes nothing.
        return UNPARSED_KEY_PREFIX + Hashing.sha256Hex(line);
    }

    /** The key of a line that names no document (see {@link #key}). */
    static final String UNPARSED_KEY_PREFIX = "!unparsed:";

    private static String docId(String line) {
        try {
            JsonNode n = Json.parse(line);
            return n.path("doc_id").isTextual() ? n.get("doc_id").asText() : null;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Polls Milvus every 250 ms until chunk 0 of every published document is there, asking only
     * for the documents not yet seen (a landed row stays), so polling costs Milvus little.
     */
    private boolean awaitInMilvus(List<String> docIds) throws InterruptedException {
        long deadline = System.nanoTime() + awaitTimeout.toNanos();
        java.util.Set<String> missing = new java.util.LinkedHashSet<>(docIds);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("in milvus").setInitialMax(docIds.size())
                .setStyle(ProgressBarStyle.ASCII).setUnit(" docs", 1).continuousUpdate().build()) {
            MilvusStore store = null;
            try {
                while (System.nanoTime() < deadline) {
                    if (store == null) {
                        store = connect(); // a Milvus busy with the very ingest we wait for may not answer at once
                    }
                    if (store != null) {
                        missing.removeAll(present(store, List.copyOf(missing)));
                        bar.stepTo(docIds.size() - missing.size());
                        if (missing.isEmpty()) {
                            System.out.printf("all %d documents are in Milvus collection %s%n", docIds.size(), collection);
                            return true;
                        }
                    }
                    Thread.sleep(250);
                }
            } finally {
                if (store != null) {
                    store.close();
                }
            }
        }
        System.err.printf("timed out after %s waiting for Milvus to hold all %d documents%n", awaitTimeout, docIds.size());
        return false;
    }

    /** A client of the awaited Milvus, or null (with the reason printed) if it cannot connect now. */
    private MilvusStore connect() {
        try {
            return new MilvusStore(new MilvusSettings(awaitMilvus, System.getenv("EMBEDSTREAM_MILVUS_TOKEN"), collection,
                    30_000, 10_000));
        } catch (RuntimeException e) {
            System.err.println("cannot reach Milvus yet (" + e.getMessage() + "); retrying");
            return null;
        }
    }

    /** Which of these documents have chunk 0 in Milvus. */
    private static List<String> present(MilvusStore store, List<String> docIds) {
        List<String> found = new ArrayList<>();
        try {
            for (int i = 0; i < docIds.size(); i += POLL_BATCH) {
                StringJoiner in = new StringJoiner(" or ");
                for (String id : docIds.subList(i, Math.min(i + POLL_BATCH, docIds.size()))) {
                    in.add("doc_id == " + FilterCompiler.literal(id));
                }
                store.query("chunk_index == 0 and (" + in + ")", List.of("doc_id"))
                        .forEach(row -> found.add(String.valueOf(row.get("doc_id"))));
            }
        } catch (RuntimeException e) {
            return found; // the collection appears with the first write
        }
        return found;
    }
}
