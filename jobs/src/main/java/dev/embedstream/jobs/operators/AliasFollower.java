package dev.embedstream.jobs.operators;

import dev.embedstream.common.milvus.CollectionAlias.Route;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which collection the alias serves, read off the task thread every {@code milvus.alias-refresh}
 * so that a query never waits for Milvus to learn where to go. Until the alias has been read (or
 * while Milvus cannot be reached) the last known route stands, at first the job's own collection.
 * A collection without a vector-space stamp is never followed: a query is embedded only by the
 * model of the collection it searches, and an unstamped one names none.
 */
final class AliasFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AliasFollower.class);

    /** How long opening waits for the first read of the alias (Milvus down: the own route stands). */
    static final long FIRST_READ_MS = 5_000;

    private final AtomicReference<Route> current;
    /** When the alias was last read (System.nanoTime), or 0 before the first read. */
    private volatile long readAtNanos;
    private final ScheduledExecutorService refresher;
    private MilvusStore store;

    /**
     * @param own the job's own collection and space: the route until the alias says otherwise
     * @param milvus where the alias ({@code milvus.collection}) lives
     */
    AliasFollower(Route own, MilvusSettings milvus, long refreshMs) {
        this.current = new AtomicReference<>(own);
        this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "alias-follower");
            t.setDaemon(true);
            return t;
        });
        // The first read is awaited (briefly): a job restored after a swap must not route its first
        // queries to its own collection before it has read where the alias points. Always, not only
        // on restore: this operator keeps no state, and Flink tells a stateless task nothing of it.
        try {
            refresher.submit(() -> refresh(milvus)).get(FIRST_READ_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            LOG.warn("alias {} not read within {} ms at start; queries go to {} until it is", milvus.collection(),
                    FIRST_READ_MS, own.collection());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        refresher.scheduleWithFixedDelay(() -> refresh(milvus), refreshMs, refreshMs, TimeUnit.MILLISECONDS);
    }

    /** The route queries take now. */
    Route current() {
        return current.get();
    }

    /** Whether the alias was read within the last {@code ms}: the route is known, not assumed. */
    boolean readWithin(long ms) {
        long at = readAtNanos;
        return at != 0 && System.nanoTime() - at <= TimeUnit.MILLISECONDS.toNanos(ms);
    }

    private void refresh(MilvusSettings milvus) {
        try {
            if (store == null) {
                store = new MilvusStore(milvus);
            }
            // Only the alias is read each time; the stamp again only when the alias has moved.
            var target = store.aliasTarget(milvus.collection());
            readAtNanos = System.nanoTime();
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
        } catch (RuntimeException e) {
            // Milvus unreachable: the last known route stands; the search reports the outage.
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
