package dev.embedstream.jobs.operators;

import dev.embedstream.common.milvus.CollectionAlias.Route;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.milvus.VectorSpace;
import java.io.Serializable;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which collection the alias serves, read off the task thread every {@code milvus.alias-refresh}
 * so that a query seldom waits for Milvus to learn where to go. A query takes a route only from a
 * read that started at most {@link #FRESH_REFRESHES} refresh intervals before the query was sent
 * (its Kafka timestamp, or its arrival here if that is earlier), or after. That is the promise
 * behind {@code migrate --settle}: a query sent more than two intervals after the alias moved
 * follows it, however slowly Milvus answered the reads in between; a read that started before the
 * swap and returned after it never counts for such a query. When no such read has returned yet
 * (Milvus slow, a restart whose first read failed) {@link #await} waits for one; when Milvus cannot
 * be read the answer is "unknown", never a guess. A collection without a vector-space stamp is
 * never followed: a query is embedded only by the model of the collection it searches, and an
 * unstamped one names none.
 */
final class AliasFollower implements AutoCloseable {

    /** Where the alias points, and a collection's stamp: one Milvus call each. */
    interface Lookup extends AutoCloseable {
        Optional<String> aliasTarget(String alias);

        Optional<VectorSpace> spaceOf(String collection);

        @Override
        void close();
    }

    /** Opens the lookup on the follower's thread; carried by an operator, so serializable. */
    @FunctionalInterface
    interface Source extends Serializable {
        Lookup open(MilvusSettings milvus);

        /** The Milvus server itself. */
        static Source milvus() {
            return settings -> {
                MilvusStore store = new MilvusStore(settings);
                return new Lookup() {
                    @Override
                    public Optional<String> aliasTarget(String alias) {
                        return store.aliasTarget(alias);
                    }

                    @Override
                    public Optional<VectorSpace> spaceOf(String collection) {
                        return store.spaceOf(collection);
                    }

                    @Override
                    public void close() {
                        store.close();
                    }
                };
            };
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(AliasFollower.class);

    /** How long opening waits for the first read of the alias (Milvus down: the own route stands). */
    static final long FIRST_READ_MS = 5_000;

    /** A route is known while the read that found it started at most this many intervals ago. */
    static final int FRESH_REFRESHES = 2;

    private final AtomicReference<Route> current;
    /** When the read that found {@link #current} started (epoch ms), or 0 before one succeeded. */
    private volatile long knownSinceMs;
    /** When the last read that failed ended (epoch ms), or 0. */
    private volatile long failedAtMs;
    private final long refreshMs;
    private final MilvusSettings milvus;
    private final ScheduledExecutorService refresher;
    private final Source source;
    private Future<?> pending;
    private Lookup store;

    /**
     * @param own the job's own collection and space: the route until the alias says otherwise
     * @param milvus where the alias ({@code milvus.collection}) lives
     */
    AliasFollower(Route own, MilvusSettings milvus, long refreshMs) {
        this(own, milvus, refreshMs, Source.milvus());
    }

    AliasFollower(Route own, MilvusSettings milvus, long refreshMs, Source source) {
        this.source = source;
        this.current = new AtomicReference<>(own);
        this.refreshMs = refreshMs;
        this.milvus = milvus;
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "alias-follower");
            t.setDaemon(true);
            return t;
        });
        // The first read is awaited (briefly): a job restored after a swap must not route its first
        // queries to its own collection before it has read where the alias points. Always, not only
        // on restore: this operator keeps no state, and Flink tells a stateless task nothing of it.
        try {
            refresher.submit(this::refresh).get(FIRST_READ_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("alias {} not read within {} ms at start; queries wait until it is", milvus.collection(),
                    FIRST_READ_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        refresher.scheduleWithFixedDelay(this::refresh, refreshMs, refreshMs, TimeUnit.MILLISECONDS);
    }

    /** The route last read, known or not (for gauges). */
    Route current() {
        return current.get();
    }

    /**
     * The route for a query sent at {@code sentAtMs}, when a read recent enough for it has
     * returned (see the class comment); null when none has. Never blocks.
     */
    Route knownFor(long sentAtMs) {
        return knownSinceMs != 0 && knownSinceMs >= oldestReadFor(sentAtMs) ? current.get() : null;
    }

    /**
     * The route for a query sent at {@code sentAtMs}, reading the alias again and waiting (at most
     * {@code waitMs}) when no read recent enough for it has returned; null when it cannot be
     * learnt: the last read failed lately and none succeeded since, or none returned in time.
     */
    Route await(long sentAtMs, long waitMs) {
        long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, waitMs));
        while (true) {
            Route route = knownFor(sentAtMs);
            if (route != null) {
                return route;
            }
            if (failingNow() || until - System.nanoTime() <= 0) {
                return null; // Milvus cannot be read: no guess
            }
            Future<?> read;
            synchronized (this) {
                if (pending == null || pending.isDone()) {
                    if (refresher.isShutdown()) {
                        return null; // closing
                    }
                    pending = refresher.submit(this::refresh);
                }
                read = pending;
            }
            try {
                read.get(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                return knownFor(sentAtMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
    }

    /**
     * Whether the last read failed, recently (it ended within the freshness window and one rpc
     * timeout), and none succeeded since: Milvus is down, refusing or hanging, and waiting would
     * only add latency.
     */
    private boolean failingNow() {
        long failed = failedAtMs;
        return failed > knownSinceMs
                && System.currentTimeMillis() - failed <= FRESH_REFRESHES * refreshMs + milvus.rpcTimeoutMs();
    }

    /** The earliest start of a read that may route a query sent at {@code sentAtMs}. */
    private long oldestReadFor(long sentAtMs) {
        return Math.min(sentAtMs, System.currentTimeMillis()) - FRESH_REFRESHES * refreshMs;
    }

    private void refresh() {
        long started = System.currentTimeMillis();
        try {
            if (store == null) {
                store = source.open(milvus);
            }
            // Only the alias is read each time; the stamp again only when the alias has moved.
            var target = store.aliasTarget(milvus.collection());
            target.map(c -> c.equals(current.get().collection()) ? current.get()
                    : new Route(c, store.spaceOf(c).orElse(null))).ifPresent(route -> {
                if (route.space() == null) {
                    LOG.warn("alias {} serves {}, which carries no vector-space stamp: queries stay on {}",
                            milvus.collection(), route.collection(), current.get().collection());
                } else if (!route.equals(current.getAndSet(route))) {
                    LOG.info("alias {} now serves {} ({}): queries follow", milvus.collection(), route.collection(),
                            route.space().model());
                }
            });
            // Known only now that the whole route (the stamp included) is read, and as of the start.
            knownSinceMs = started;
        } catch (RuntimeException e) {
            failedAtMs = System.currentTimeMillis(); // its end: a read that hung counts from when it gave up
            LOG.debug("cannot read alias {}: {}", milvus.collection(), e.toString());
        }
    }

    @Override
    public void close() {
        refresher.shutdownNow();
        try {
            refresher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (store != null) {
            store.close();
        }
    }
}
