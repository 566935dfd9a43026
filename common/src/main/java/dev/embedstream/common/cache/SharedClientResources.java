package dev.embedstream.common.cache;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lettuce {@link ClientResources} (Netty event loops, the computation pool, the timer) that
 * every {@link RedisLink} of this class loader shares. Lettuce's guidance is one per JVM: each
 * instance starts its own thread pools, and a TaskManager runs many subtasks, each with a link or
 * two. Flink loads a job's classes in a class loader of their own, so this is one per job per
 * TaskManager, and its threads must end with the job's last subtask (threads left running would
 * pin the job's class loader): the resources are reference counted, the first link to connect
 * creates them, the last to close shuts them down (waiting at most {@link #SHUTDOWN_TIMEOUT}),
 * and a link that connects after that creates fresh ones.
 */
final class SharedClientResources {

    private static final Logger LOG = LoggerFactory.getLogger(SharedClientResources.class);

    /**
     * Event loops for every connection of the job on this TaskManager. Cache commands are small
     * and a connection is served by one loop, so a few suffice; lettuce's default (one per
     * available processor, which in a container may be the host's count) would start dozens.
     */
    static final int IO_THREADS = Math.max(2, Math.min(4, Runtime.getRuntime().availableProcessors()));
    /** Completions, reconnect scheduling and events: light work. */
    static final int COMPUTATION_THREADS = 2;
    /** How long the last close waits for the threads to stop. */
    static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(2);
    /** Reconnect attempts back off to at most this, so a Redis that returns is used again within seconds. */
    static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(2);

    private static ClientResources current;
    private static int users;

    private SharedClientResources() {}

    /** One user's hold on the shared resources; closing it more than once releases once. */
    static final class Lease implements AutoCloseable {
        private final ClientResources resources;
        private boolean released;

        private Lease(ClientResources resources) {
            this.resources = resources;
        }

        ClientResources resources() {
            return resources;
        }

        @Override
        public void close() {
            synchronized (this) {
                if (released) {
                    return;
                }
                released = true;
            }
            release(resources);
        }
    }

    /** The shared resources, created when nobody holds them. */
    static synchronized Lease acquire() {
        if (current == null) {
            current = DefaultClientResources.builder()
                    .ioThreadPoolSize(IO_THREADS)
                    .computationThreadPoolSize(COMPUTATION_THREADS)
                    .reconnectDelay(Delay.exponential(Duration.ofMillis(50), MAX_RECONNECT_DELAY, 2, TimeUnit.MILLISECONDS))
                    .build();
        }
        users++;
        return new Lease(current);
    }

    private static void release(ClientResources resources) {
        ClientResources retired = null;
        synchronized (SharedClientResources.class) {
            if (resources == current && --users == 0) {
                retired = current;
                current = null;
            }
        }
        if (retired != null) {
            // Outside the lock: a link connecting meanwhile gets fresh resources instead of waiting.
            try {
                retired.shutdown(0, SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                        .get(SHUTDOWN_TIMEOUT.toMillis() + 500, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                LOG.warn("Redis client resources did not shut down within {}: {}", SHUTDOWN_TIMEOUT, e.toString());
            }
        }
    }

    /** How many leases are held now (for tests). */
    static synchronized int users() {
        return users;
    }
}
