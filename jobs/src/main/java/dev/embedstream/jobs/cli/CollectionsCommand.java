package dev.embedstream.jobs.cli;

import dev.embedstream.common.Defaults;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.CollectionAlias;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The collections behind the alias: list them, drop an old one, or adopt a pre-alias collection. */
@Command(name = "collections", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "List the Milvus collections behind the alias (one per vector space: model, ONNX file, pooling, dimension,"
                    + " window, chunking, id scheme), with their row counts, which one the alias serves (*) and the"
                    + " collection each one replaced (what `migrate --rollback` goes back to).",
            "",
            "--drop NAME drops an old collection behind the alias; it refuses the one the alias serves (Milvus would"
                    + " drop the alias with it and every query would fail). A job still writing into the dropped"
                    + " collection (a serving job of the old model kept for rollback) must be stopped first.",
            "--adopt --model NAME takes over a plain collection named like the alias, written by an embedstream version"
                    + " before vector-space stamps: renames it to <alias>__<model>__<hash>, stamps it with the space of"
                    + " --model and the chunk options, and points the alias at it. Only adopt with exactly the model and"
                    + " chunk settings that wrote it (the dimension and id scheme are checked, the rest cannot be)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "1:refused or failed (the message says why)", "2:invalid options"})
final class CollectionsCommand implements Callable<Integer> {

    @Mixin
    MilvusOptions milvus;

    @ArgGroup(exclusive = true)
    Action action;

    static final class Action {
        @Option(names = "--drop", paramLabel = "NAME", description = "Drop this collection (never the one the alias serves).")
        String drop;

        @ArgGroup(exclusive = false)
        Adopt adopt;
    }

    static final class Adopt {
        @Option(names = "--adopt", required = true,
                description = "Take over the plain pre-alias collection named like the alias (needs --model).")
        boolean adopt;

        @Option(names = "--model", required = true, paramLabel = "NAME",
                description = "The model that wrote it: a name (" + ModelCatalog.DEFAULT_MODEL + ", ...) or a directory"
                        + " with model.onnx and tokenizer.json (as model.name).")
        String model;

        @Option(names = "--pooling", paramLabel = "MEAN|CLS", description = "Pooling of a directory model (default: MEAN).")
        Pooling pooling;

        @Option(names = "--max-tokens", defaultValue = "" + Defaults.MODEL_MAX_TOKENS,
                description = "model.max-tokens it was written with (default: ${DEFAULT-VALUE}).")
        int maxTokens;

        @Option(names = "--chunk-tokens", defaultValue = "" + Defaults.CHUNK_MAX_TOKENS,
                description = "chunk.max-tokens it was written with (default: ${DEFAULT-VALUE}).")
        int chunkTokens;

        @Option(names = "--chunk-overlap", defaultValue = "" + Defaults.CHUNK_OVERLAP_TOKENS,
                description = "chunk.overlap-tokens it was written with (default: ${DEFAULT-VALUE}).")
        int chunkOverlap;

        @Option(names = "--model-cache-dir", paramLabel = "DIR", defaultValue = "${java.io.tmpdir}/embedstream-models",
                description = "Where named models are extracted (default: ${DEFAULT-VALUE}).")
        Path cacheDir;
    }

    /** One line of the table. */
    record Row(String collection, boolean serving, String model, String space, String rows, String dimension,
            String previous) {}

    @Override
    public Integer call() {
        try (MilvusStore store = milvus.open()) {
            CollectionAlias alias = new CollectionAlias(store, milvus.alias);
            if (action != null && action.drop != null) {
                return drop(store, action.drop);
            }
            if (action != null && action.adopt != null) {
                Adopt a = action.adopt;
                VectorSpace space;
                try (LocalModel model = LocalModel.open(a.model, a.pooling, a.maxTokens, a.chunkTokens, a.chunkOverlap,
                        a.cacheDir)) {
                    space = model.space();
                }
                CollectionAlias.Route route = alias.adopt(space);
                System.out.printf("adopted: '%s' is now '%s' (%s); alias '%s' serves it%n", milvus.alias,
                        route.collection(), space.describe(), milvus.alias);
            }
            print(rows(store, milvus.alias));
            return 0;
        }
    }

    private int drop(MilvusStore store, String name) {
        Optional<String> serving = store.aliasTarget(milvus.alias);
        if (serving.isPresent() && serving.get().equals(name)) {
            throw new IllegalStateException("alias '" + milvus.alias + "' serves '" + name + "': dropping it would drop the"
                    + " alias with it and fail every query. Swap first (scripts/embedstream migrate --to-model ... --swap,"
                    + " or migrate --rollback), then drop.");
        }
        if (!VectorSpace.behind(milvus.alias, name)) {
            throw new IllegalStateException("'" + name + "' is not a collection behind alias '" + milvus.alias + "' ("
                    + milvus.alias + "__*); this command drops only those (pass --alias for another alias)");
        }
        if (!store.isCollection(name)) {
            throw new IllegalStateException("there is no collection '" + name + "'");
        }
        store.dropCollection(name);
        System.out.printf("dropped '%s'%n", name);
        return 0;
    }

    /** The collections behind {@code alias}, and a plain pre-alias collection of that name. */
    static List<Row> rows(MilvusStore store, String alias) {
        Optional<String> serving = store.aliasTarget(alias);
        List<Row> rows = new ArrayList<>();
        for (String name : store.collections().stream().sorted().toList()) {
            boolean plain = name.equals(alias) && serving.isEmpty();
            if (!plain && !VectorSpace.behind(alias, name)) {
                continue;
            }
            Map<String, String> props = store.properties(name);
            Optional<VectorSpace> space = VectorSpace.parse(props.get(VectorSpace.PROPERTY));
            String dimension = space.map(s -> String.valueOf(s.dimension()))
                    .orElseGet(() -> store.describe(name).map(f -> String.valueOf(f.dimension())).orElse("?"));
            rows.add(new Row(name, serving.map(name::equals).orElse(false),
                    space.map(VectorSpace::model).orElse(plain ? "(plain, pre-alias: --adopt)" : "(no stamp)"),
                    space.map(VectorSpace::hash).orElse("-"), rowCount(store, name), dimension,
                    props.getOrDefault(VectorSpace.PREVIOUS_PROPERTY, "-")));
        }
        return rows;
    }

    /** A count, or why there is none (a collection Milvus has not loaded cannot be counted). */
    static String rowCount(MilvusStore store, String collection) {
        try {
            return String.valueOf(store.rowCount(collection));
        } catch (RuntimeException e) {
            return "? (" + firstLine(e.getMessage()) + ")";
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "unknown error";
        }
        int cut = message.indexOf('\n');
        String line = cut < 0 ? message : message.substring(0, cut);
        return line.length() > 80 ? line.substring(0, 77) + "..." : line;
    }

    private void print(List<Row> rows) {
        if (rows.isEmpty()) {
            System.out.printf("no collections behind alias '%s' at %s%n", milvus.alias, milvus.uri);
            return;
        }
        List<String[]> cells = new ArrayList<>();
        cells.add(new String[] {"", "COLLECTION", "MODEL", "SPACE", "ROWS", "DIM", "PREVIOUS"});
        for (Row r : rows) {
            cells.add(new String[] {r.serving() ? "*" : "", r.collection(), r.model(), r.space(), r.rows(), r.dimension(),
                    r.previous()});
        }
        System.out.print(Table.render(cells));
        System.out.printf("* = served by alias '%s'%s%n", milvus.alias,
                rows.stream().anyMatch(Row::serving) ? "" : " (no collection is served: the alias does not exist yet)");
    }
}
