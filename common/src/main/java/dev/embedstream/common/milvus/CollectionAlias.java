package dev.embedstream.common.milvus;

import java.io.Serializable;
import java.util.Map;
import java.util.Optional;

/**
 * The configured collection name ({@code milvus.collection}) as a Milvus alias over one collection
 * per vector space (DESIGN section 3). Each collection is named after its {@link VectorSpace} and
 * stamped with it; the alias says which one serves queries. A job writes only into the collection
 * of its own space; a serving job started fresh refuses to run when the alias serves another
 * space (a model change goes through {@code embedstream migrate}); queries follow the alias, each
 * embedded by the model of the collection it searches.
 */
public final class CollectionAlias {

    /** A collection and the space it is stamped with (null for an unstamped one). */
    public record Route(String collection, VectorSpace space) implements Serializable {}

    /** A collection of another vector space than the job's, where the job would write or serve. */
    public static final class SpaceMismatchException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        SpaceMismatchException(String message) {
            super(message);
        }
    }

    private final MilvusStore store;
    private final String alias;

    /** @param store a client; its configured collection is not used, only its connection */
    public CollectionAlias(MilvusStore store, String alias) {
        this.store = store;
        this.alias = alias;
    }

    public String alias() {
        return alias;
    }

    /**
     * The collection of {@code space}, created (stamped) when missing, and loaded. Refuses a plain
     * collection of an earlier version where the alias should be, and a collection of this name
     * stamped with another space (made by hand, or by a version that computed spaces otherwise).
     */
    public Route ensure(VectorSpace space) {
        refuseLegacy(space);
        String name = space.collectionName(alias);
        store.ensureCollection(name, space);
        Optional<VectorSpace> stamped = store.spaceOf(name);
        if (stamped.isEmpty() || !stamped.get().equals(space)) {
            throw new SpaceMismatchException("Milvus collection '" + name + "' is stamped "
                    + stamped.map(VectorSpace::describe).orElse("with no vector space") + ", not with this job's "
                    + space.describe() + "; drop it (scripts/embedstream collections --drop " + name + ")");
        }
        return new Route(name, space);
    }

    /**
     * For the serving job: {@link #ensure} its collection, point the alias at it when there is no
     * alias yet, and when the alias serves another collection refuse a fresh start (a restart from
     * a checkpoint goes on: its queries follow the alias, its documents keep its own collection
     * current for a rollback).
     *
     * @param freshStart true when the job starts without a checkpoint or savepoint
     */
    public Route bindServing(VectorSpace space, boolean freshStart) {
        Route mine = ensure(space);
        Optional<String> target = store.aliasTarget(alias);
        if (target.isEmpty()) {
            try {
                store.pointAlias(alias, mine.collection());
            } catch (RuntimeException e) {
                // another subtask created it first; what it points at decides
            }
            target = store.aliasTarget(alias);
        }
        String serving = target.orElseThrow(() -> new IllegalStateException("cannot create Milvus alias '" + alias + "'"));
        if (!serving.equals(mine.collection()) && freshStart) {
            throw mismatch(serving, store.spaceOf(serving).orElse(null), space);
        }
        return mine;
    }

    /** The collection the alias serves and its space, or empty when there is no alias (yet). */
    public Optional<Route> serving() {
        return store.aliasTarget(alias).map(c -> new Route(c, store.spaceOf(c).orElse(null)));
    }

    /**
     * Points the alias at {@code collection} (atomically) and stamps it with the collection served
     * until now, so {@link #rollback()} knows where to go back.
     *
     * @return the collection served before, or empty when there was none
     */
    public Optional<String> swapTo(String collection) {
        VectorSpace space = store.spaceOf(collection).orElseThrow(() -> new IllegalStateException(
                "Milvus collection '" + collection + "' carries no vector space stamp; only a collection made by"
                        + " embedstream can serve behind alias '" + alias + "'"));
        if (!VectorSpace.behind(alias, collection)) {
            throw new IllegalStateException("collection '" + collection + "' (" + space.model() + ") is not one of alias '"
                    + alias + "' (" + alias + "__*)");
        }
        // Sealed (indexed) before it serves: rows the backfill wrote since its last timed seal
        // would otherwise be searched one by one by Milvus Lite.
        store.seal(collection);
        Optional<String> before = store.aliasTarget(alias);
        if (before.isPresent() && !before.get().equals(collection)) {
            store.setProperties(collection, Map.of(VectorSpace.PREVIOUS_PROPERTY, before.get()));
        }
        store.pointAlias(alias, collection);
        return before;
    }

    /** Points the alias back at the collection it served before the last swap; returns it. */
    public String rollback() {
        String current = store.aliasTarget(alias).orElseThrow(() -> new IllegalStateException(
                "alias '" + alias + "' does not exist: nothing to roll back"));
        String previous = store.properties(current).get(VectorSpace.PREVIOUS_PROPERTY);
        if (previous == null || !store.isCollection(previous)) {
            throw new IllegalStateException("alias '" + alias + "' serves '" + current + "', which records no previous"
                    + " collection" + (previous == null ? "" : " that still exists (" + previous + " was dropped)"));
        }
        store.pointAlias(alias, previous);
        return previous;
    }

    /**
     * Takes over a plain collection of an earlier version, named like the alias: renames it after
     * {@code space}, stamps it and points the alias at it. The caller vouches that {@code space}'s
     * model wrote it; its id scheme and dimension are checked here.
     */
    public Route adopt(VectorSpace space) {
        if (store.aliasTarget(alias).isPresent() || !store.isCollection(alias)) {
            throw new IllegalStateException("there is no plain collection '" + alias + "' to adopt");
        }
        var facts = store.describe(alias).orElseThrow();
        if (!facts.currentIdScheme()) {
            throw new IllegalStateException(facts.idSchemeRefusal());
        }
        if (facts.dimension() != space.dimension()) {
            throw new IllegalStateException("collection '" + alias + "' holds vectors of dimension " + facts.dimension()
                    + "; model " + space.model() + " gives " + space.dimension() + ": it was not written by this model");
        }
        String name = space.collectionName(alias);
        store.renameCollection(alias, name);
        store.setProperties(name, Map.of(VectorSpace.PROPERTY, space.json()));
        store.pointAlias(alias, name);
        return new Route(name, space);
    }

    private void refuseLegacy(VectorSpace space) {
        if (store.aliasTarget(alias).isEmpty() && store.isCollection(alias)) {
            throw new SpaceMismatchException("Milvus collection '" + alias + "' is a plain collection of an embedstream"
                    + " version before vector-space stamps: this version cannot tell which model wrote it, and never"
                    + " mixes vector spaces. If exactly this job's model and chunk settings wrote it, adopt it:"
                    + " `scripts/embedstream collections --adopt --model " + space.model() + "` (renames it to '"
                    + space.collectionName(alias) + "' and points alias '" + alias + "' at it). Otherwise drop or rename"
                    + " it and replay the documents topic (compacted) from the earliest offset: start the job without"
                    + " its savepoint and with a new kafka.group-id.");
        }
    }

    private SpaceMismatchException mismatch(String serving, VectorSpace servingSpace, VectorSpace mine) {
        String theirs = servingSpace == null ? "no vector space stamp" : servingSpace.describe();
        String differ = servingSpace == null ? "" : " (differs in: " + String.join(", ", mine.differences(servingSpace)) + ")";
        String keep = servingSpace == null ? "" : "; to keep serving it, start the job with model.name="
                + servingSpace.model() + " and the same chunk settings";
        return new SpaceMismatchException("Milvus alias '" + alias + "' serves collection '" + serving + "' of vector space "
                + theirs + ", but this job's model gives vector space " + mine.describe() + differ
                + ". A job never writes into or searches a collection of another vector space. To move the corpus to"
                + " this model, run `scripts/embedstream migrate --to-model " + mine.model() + "` (re-embeds it beside the"
                + " serving collection, then --swap)" + keep + ".");
    }
}
