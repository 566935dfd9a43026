package dev.embedstream.jobs.cli;

import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.model.Hit;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * A model change as one operation: re-embed the corpus into the new model's collection with a
 * second job (the backfill role, from the same jar) while the serving job keeps answering from the
 * old one, show its progress, evaluate both collections, swap the alias, roll back.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Move the corpus to another model without downtime.",
            "",
            "migrate --to-model NAME computes NAME's vector space here (loading the model once), refuses when the"
                    + " alias already serves it, and starts the backfill job on the Flink cluster (--flink) from the"
                    + " job jar (--jar): job.role=backfill, consumer group embedstream-backfill-<space hash>. It replays"
                    + " the documents topic (compacted: the current corpus) from the earliest offset into collection"
                    + " <alias>__<model>__<hash>, and keeps it current with the documents that arrive meanwhile (the"
                    + " serving job keeps writing its own collection and answering from it). When a RUNNING job named"
                    + " embedstream-backfill-<model> exists, migrate attaches to it instead (run the same command again"
                    + " after a Ctrl-C).",
            "It then shows a progress bar of the records replayed out of the topic's records when it started (the"
                    + " group's committed offsets, which the job commits on every checkpoint), with rate and ETA, until"
                    + " the backfill has caught up (or --catch-up-timeout), and prints the rows of both collections.",
            "--eval FILE then embeds each query with each collection's model (here, as the query path would), searches"
                    + " both collections (top 10) and prints MRR@10 and recall@10 per collection; --min-mrr X fails"
                    + " (exit 3) when the new collection's MRR@10 is below X, and --swap does not swap.",
            "--swap, once caught up (and past the gate), points the alias at the new collection atomically and waits"
                    + " --settle, so every serving job reads the alias again (milvus.alias-refresh, 1 s) before it says"
                    + " swapped: from then on each query is embedded by the new model and searched in the new"
                    + " collection. The backfill job keeps the new collection current; the serving job keeps the old one"
                    + " current for a rollback.",
            "migrate --rollback points the alias back at the collection it served before the last swap."
                    + " The old collection stays until `collections --drop NAME`.",
            "migrate --status prints the backfill jobs, their lag and the rows of the collections behind the alias.",
            "",
            "Kafka options (--bootstrap, --documents-topic, --kafka-property) are the embedstream command's."},
        footerHeading = "%nExamples:%n",
        footer = {
            "  # backfill with a progress bar, then the rows of both collections",
            "  scripts/embedstream migrate --to-model bge-small-en-v15",
            "  # the same (attaches to the running backfill), gated swap",
            "  scripts/embedstream migrate --to-model bge-small-en-v15 \\",
            "      --eval queries.jsonl --min-mrr 0.6 --swap",
            "  scripts/embedstream migrate --rollback",
            "  # another cluster: Kafka options go before the command",
            "  scripts/embedstream --bootstrap kafka:9092 migrate \\",
            "      --to-model all-minilm-l6-v2-q --flink http://jobmanager:8081 \\",
            "      --milvus http://milvus:19530 --redis none --detach"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:refused or failed (the message says why)", "2:invalid options",
            "3:--min-mrr gate failed (no swap)", "4:not caught up within --catch-up-timeout (the backfill goes on)"})
final class MigrateCommand implements Callable<Integer> {

    static final int GATE_FAILED = 3;
    static final int NOT_CAUGHT_UP = 4;
    static final String JOB_PREFIX = "embedstream-backfill-";
    static final String GROUP_PREFIX = "embedstream-backfill-";

    @ParentCommand
    EmbedstreamCli cli;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Mode mode;

    static final class Mode {
        @Option(names = "--to-model", paramLabel = "NAME",
                description = "The new model: a name (" + ModelCatalog.DEFAULT_MODEL + ", all-minilm-l6-v2-q,"
                        + " bge-small-en-v15) or a directory with model.onnx and tokenizer.json readable on every"
                        + " TaskManager (anything model.name accepts).")
        String toModel;

        @Option(names = "--rollback", description = "Point the alias back at the collection served before the last swap.")
        boolean rollback;

        @Option(names = "--status", description = "Print the backfill jobs, their lag and the collections' rows.")
        boolean status;
    }

    @Mixin
    SwapGateOptions gate;

    @Mixin
    FollowOptions follow;

    @Mixin
    BackfillJobOptions job;

    @Mixin
    MilvusOptions milvus;

    @Mixin
    NewSpaceOptions newSpace;

    @Override
    public Integer call() throws Exception {
        gate.validate();
        if ((mode.rollback || mode.status) && (gate.swap || gate.eval != null || follow.detach)) {
            throw new IllegalArgumentException("--swap, --eval and --detach go with --to-model, not with --rollback or --status");
        }
        try (MilvusStore store = milvus.open()) {
            CollectionAlias alias = new CollectionAlias(store, milvus.alias);
            if (mode.rollback) {
                return rollback(alias);
            }
            if (mode.status) {
                return status(store, alias);
            }
            return migrate(store, alias);
        }
    }

    private int rollback(CollectionAlias alias) throws InterruptedException {
        String from = alias.serving().map(CollectionAlias.Route::collection).orElse("?");
        String to = alias.rollback();
        System.out.printf("alias '%s' moved back from '%s' to '%s'; waiting %s for the serving jobs to follow%n",
                milvus.alias, from, to, gate.settle);
        Thread.sleep(gate.settle.toMillis());
        System.out.printf("rolled back: alias '%s' serves '%s'%n", milvus.alias, to);
        return 0;
    }

    private int migrate(MilvusStore store, CollectionAlias alias) throws Exception {
        CollectionAlias.Route serving = alias.serving().orElseThrow(() -> new IllegalStateException("alias '"
                + milvus.alias + "' does not exist at " + milvus.uri + ": nothing serves yet, so there is nothing to migrate;"
                + " start the serving job with model.name=" + mode.toModel + " instead"));
        if (serving.space() == null) {
            throw new IllegalStateException("alias '" + milvus.alias + "' serves '" + serving.collection() + "', which carries"
                    + " no vector space stamp: only a collection made by embedstream can be migrated from");
        }
        VectorSpace old = serving.space();
        if (gate.eval != null && !Files.isReadable(gate.eval)) {
            throw new IllegalArgumentException("--eval " + gate.eval + ": no such readable file");
        }
        List<EvalSet.Query> queries = gate.eval == null ? List.of() : EvalSet.read(gate.eval);
        String modelArg = modelArgument(mode.toModel);
        try (LocalModel next = newSpace.open(modelArg, old)) {
            VectorSpace space = next.space();
            if (space.equals(old)) {
                throw new IllegalStateException("alias '" + milvus.alias + "' already serves vector space " + space.describe()
                        + " (collection '" + serving.collection() + "'): nothing to migrate");
            }
            String target = space.collectionName(milvus.alias);
            if (target.equals(serving.collection())) {
                throw new IllegalStateException("collection '" + target + "' is served but stamped " + old.describe());
            }
            System.out.printf("serving: %s%n         %s%nnew:     %s%n         %s%n", serving.collection(), old.describe(),
                    target, space.describe());
            String group = GROUP_PREFIX + space.hash();
            String jobName = JOB_PREFIX + modelArg;
            FlinkRest rest = new FlinkRest(job.flink, follow.restTimeout);
            try (KafkaOffsets offsets = new KafkaOffsets(cli.kafkaProps(), cli.documentsTopic, follow.restTimeout)) {
                Map<TopicPartition, Long> ends = offsets.ends();
                String jobId = startOrAttach(rest, jobName, backfillArgs(modelArg, group, old, space));
                if (follow.detach) {
                    System.out.printf("detached; follow it with: scripts/embedstream migrate --to-model %s (attaches)"
                            + " or migrate --status%n", mode.toModel);
                    return 0;
                }
                if (!awaitCatchUp(rest, jobId, offsets, group, ends, store, target)) {
                    System.err.printf("not caught up within %s; the backfill job goes on. Run the same command again to"
                            + " follow it (it attaches), or migrate --status.%n", follow.catchUpTimeout);
                    return NOT_CAUGHT_UP;
                }
            }
            System.out.printf("caught up. rows: %s = %s, %s = %s%n", serving.collection(),
                    CollectionsCommand.rowCount(store, serving.collection()), target, CollectionsCommand.rowCount(store, target));
            if (!queries.isEmpty()) {
                RankingMetrics.Summary before;
                RankingMetrics.Summary after;
                try (LocalModel previous = LocalModel.ofSpace(old, gate.fromModel, newSpace.cacheDir)) {
                    before = evaluate(store, serving.collection(), previous, queries);
                }
                after = evaluate(store, target, next, queries);
                printEval(queries.size(), serving.collection(), old.model(), before, target, space.model(), after);
                if (gate.minMrr != null && after.mrr() < gate.minMrr) {
                    System.err.printf("gate failed: MRR@10 of %s is %.4f, below --min-mrr %s%s%n", target, after.mrr(),
                            gate.minMrr, gate.swap ? "; not swapping" : "");
                    return GATE_FAILED;
                }
                if (gate.minMrr != null) {
                    System.out.printf("gate passed: MRR@10 %.4f >= %s%n", after.mrr(), gate.minMrr);
                }
            }
            if (gate.swap) {
                Optional<String> before = alias.swapTo(target);
                System.out.printf("alias '%s' moved from '%s' to '%s'; waiting %s for the serving jobs to follow%n",
                        milvus.alias, before.orElse("-"), target, gate.settle);
                Thread.sleep(gate.settle.toMillis());
                System.out.printf("swapped: alias '%s' serves '%s' (%s); roll back with: scripts/embedstream migrate"
                        + " --rollback%n", milvus.alias, target, space.model());
            } else {
                System.out.printf("not swapped (pass --swap); the backfill job keeps '%s' current%n", target);
            }
            return 0;
        }
    }

    /** A directory as an absolute path (the cluster does not share the caller's directory); a name as it is. */
    static String modelArgument(String nameOrDir) {
        Path p = Path.of(nameOrDir);
        return Files.isDirectory(p) ? p.toAbsolutePath().normalize().toString() : nameOrDir;
    }

    /** The backfill job's program arguments. */
    List<String> backfillArgs(String modelArg, String group, VectorSpace old, VectorSpace space) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("job.role", "backfill");
        a.put("model.name", modelArg);
        a.put("kafka.group-id", group);
        a.put("checkpoint.interval", job.checkpointInterval);
        a.put("kafka.bootstrap-servers", cli.bootstrap);
        a.put("topic.documents", cli.documentsTopic);
        a.put("milvus.uri", milvus.uri);
        a.put("milvus.collection", milvus.alias);
        job.redisUri().ifPresent(uri -> a.put("redis.uri", uri));
        a.put("model.max-tokens", String.valueOf(space.maxTokens()));
        a.put("chunk.max-tokens", String.valueOf(space.chunkTokens()));
        a.put("chunk.overlap-tokens", String.valueOf(space.chunkOverlap()));
        if (newSpace.pooling != null) {
            a.put("model.pooling", newSpace.pooling.name());
        }
        cli.kafkaProperties.forEach((k, v) -> a.put("kafka.properties." + k, v));
        a.putAll(job.jobArgs);
        return programArgs(a);
    }

    /** {@code --key value} pairs, in order. */
    static List<String> programArgs(Map<String, String> options) {
        List<String> args = new ArrayList<>();
        options.forEach((k, v) -> {
            args.add("--" + k);
            args.add(v);
        });
        return args;
    }

    private String startOrAttach(FlinkRest rest, String jobName, List<String> args) throws Exception {
        Optional<FlinkRest.Job> running = rest.running(jobName);
        if (running.isPresent()) {
            System.out.printf("attaching to the running backfill job %s (%s)%n", running.get().id(), jobName);
            return running.get().id();
        }
        Path jobJar = job.jobJar();
        System.out.printf("uploading %s to %s%n", jobJar, job.flink);
        String jarId = rest.upload(jobJar);
        String jobId = rest.run(jarId, args);
        System.out.printf("started backfill job %s (%s)%n", jobId, jobName);
        return jobId;
    }

    /** Progress until caught up (and the collection exists); false on timeout. Fails when the job stops. */
    private boolean awaitCatchUp(FlinkRest rest, String jobId, KafkaOffsets offsets, String group,
            Map<TopicPartition, Long> ends, MilvusStore store, String target) throws Exception {
        long deadline = System.nanoTime() + follow.catchUpTimeout.toNanos();
        BackfillProgress p = offsets.progress(group, ends);
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("backfill").setInitialMax(Math.max(1, p.total()))
                .setStyle(ProgressBarStyle.ASCII).setUnit(" records", 1).showSpeed().continuousUpdate()
                .startsFrom(p.replayed(), Duration.ZERO).build()) {
            while (true) {
                bar.maxHint(Math.max(1, p.total()));
                bar.stepTo(p.replayed());
                String state = rest.state(jobId);
                bar.setExtraMessage("lag " + p.lag() + ", job " + state);
                if (Set.of("FAILED", "CANCELED", "FINISHED", "SUSPENDED").contains(state)) {
                    throw new IllegalStateException("backfill job " + jobId + " is " + state + " (see the Flink UI at "
                            + job.flink + " or the job log)");
                }
                if (p.caughtUp() && store.isCollection(target)) {
                    bar.stepTo(bar.getMax());
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(follow.poll.toMillis());
                p = offsets.progress(group, ends);
            }
        }
    }

    /** The metrics of one collection: each query embedded by that collection's model, top 10 documents. */
    static RankingMetrics.Summary evaluate(MilvusStore store, String collection, LocalModel model,
            List<EvalSet.Query> queries) {
        RankingMetrics.Summary s = new RankingMetrics.Summary();
        for (EvalSet.Query q : queries) {
            List<String> ranked = store.search(collection, model.embed(q.text()), q.tenant(), Map.of(), RankingMetrics.K)
                    .stream().map(Hit::docId).toList();
            s.add(ranked, q.relevant());
        }
        return s;
    }

    private static void printEval(int n, String oldCollection, String oldModel, RankingMetrics.Summary before,
            String newCollection, String newModel, RankingMetrics.Summary after) {
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"COLLECTION", "MODEL", "QUERIES", "MRR@10", "RECALL@10"});
        cells.add(new String[] {oldCollection + " (serving)", oldModel, String.valueOf(n), fmt(before.mrr()),
            fmt(before.recall())});
        cells.add(new String[] {newCollection + " (new)", newModel, String.valueOf(n), fmt(after.mrr()), fmt(after.recall())});
        System.out.print(Table.render(cells));
    }

    private static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, "%.4f", v);
    }

    private int status(MilvusStore store, CollectionAlias alias) throws Exception {
        Optional<CollectionAlias.Route> serving = alias.serving();
        FlinkRest rest = new FlinkRest(job.flink, follow.restTimeout);
        List<FlinkRest.Job> jobs;
        try {
            jobs = rest.jobs().stream().filter(j -> j.name().startsWith(JOB_PREFIX)).toList();
        } catch (java.io.IOException e) {
            System.out.printf("Flink: %s%n", e.getMessage());
            jobs = List.of();
        }
        System.out.printf("backfill jobs at %s:%s%n", job.flink, jobs.isEmpty() ? " none" : "");
        for (FlinkRest.Job j : jobs) {
            System.out.printf("  %s  %s  %s%n", j.id(), j.state(), j.name());
        }
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"", "COLLECTION", "MODEL", "ROWS", "BACKFILL GROUP", "LAG"});
        try (KafkaOffsets offsets = new KafkaOffsets(cli.kafkaProps(), cli.documentsTopic, follow.restTimeout)) {
            Map<TopicPartition, Long> ends = offsets.ends();
            for (CollectionsCommand.Row r : CollectionsCommand.rows(store, milvus.alias)) {
                boolean served = r.serving();
                String group = "-".equals(r.space()) ? "-" : GROUP_PREFIX + r.space();
                String lag = "-";
                if (!"-".equals(group)) {
                    BackfillProgress p = offsets.progress(group, ends);
                    lag = p.committed().isEmpty() ? (served ? "-" : "no commits") : String.valueOf(p.lag());
                }
                cells.add(new String[] {served ? "*" : "", r.collection(), r.model(), r.rows(),
                    lag.equals("-") ? "-" : group, lag});
            }
        }
        System.out.print(Table.render(cells));
        System.out.printf("* = served by alias '%s'%s%n", milvus.alias, serving.isEmpty() ? " (alias missing)" : "");
        return 0;
    }
}
