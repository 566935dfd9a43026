package dev.embedstream.jobs.operators;

import com.netflix.concurrency.limits.Limiter;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limiter.SimpleLimiter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Admits Milvus searches under an adaptive concurrency limit (Netflix concurrency-limits'
 * {@link Gradient2Limit}: it shrinks when the measured search latency rises above its long-term
 * value, and grows while it does not), between 1 and {@code maxLimit}. A search starts when it
 * gets a permit; the others wait here, in arrival order, at most {@code capacity} of them.
 *
 * <p>A waiting search is shed as soon as its expected wait puts it past its deadline, so its
 * answer comes now rather than late: the expected wait of the i-th waiting search (0 first) is
 * {@code (i / limit + 1)} x the measured search latency (an exponentially weighted average of
 * the searches that answered or timed out): the searches ahead of it drain through the permits,
 * {@code limit} per search latency, then its own search runs. A search that gets a permit at once
 * runs unless its deadline has passed. Until a search has been measured nothing is shed on
 * expectation, only on a deadline that has passed.
 *
 * <p>Thread-safe: searches are offered on the task thread and finish on search threads; the
 * callbacks run outside the lock.
 *
 * @param <T> what is searched
 */
final class SearchQueue<T> {

    /** Starts a search that holds {@code permit}; it must end in one of the release methods. */
    interface Start<T> {
        void start(T item, Permit permit);
    }

    /** Answers a search that will not run: it would end past its deadline. */
    interface Shed<T> {
        void shed(T item, long expectedWaitMs, long deadlineMs, long nowMs);
    }

    /** A granted search slot, with the time it was granted (for the latency measure). */
    static final class Permit {
        private final Limiter.Listener listener;
        private final long grantedNanos;

        private Permit(Limiter.Listener listener, long grantedNanos) {
            this.listener = listener;
            this.grantedNanos = grantedNanos;
        }
    }

    private record Waiting<T>(T item, long deadlineMs) {}

    /** Weight of the newest search in the latency average: about the last ten searches count. */
    private static final double LATENCY_WEIGHT = 0.2;
    /** Where the limit starts: the search threads of the fixed bound this replaces. */
    static final int INITIAL_LIMIT = 8;

    private final int capacity;
    private final LongSupplier clockMs;
    private final LongSupplier nanos;
    private final Start<T> start;
    private final Shed<T> shed;
    private final SimpleLimiter<Void> limiter;
    private final ArrayDeque<Waiting<T>> waiting = new ArrayDeque<>();
    /** Measured search latency, nanoseconds; 0 until the first search is measured. */
    private volatile double latencyNanos;

    /**
     * @param capacity most searches waiting for a permit ({@code query.max-in-flight})
     * @param maxLimit most concurrent searches the limit may reach ({@code query.max-in-flight})
     * @param clockMs the wall clock deadlines are compared with (epoch ms)
     * @param nanos the clock searches are timed with
     */
    SearchQueue(int capacity, int maxLimit, LongSupplier clockMs, LongSupplier nanos, Start<T> start, Shed<T> shed) {
        this.capacity = capacity;
        this.clockMs = clockMs;
        this.nanos = nanos;
        this.start = start;
        this.shed = shed;
        this.limiter = SimpleLimiter.newBuilder().named("milvus-search").nanoClock(nanos)
                .limit(Gradient2Limit.newBuilder().minLimit(1).maxConcurrency(maxLimit)
                        .initialLimit(Math.min(INITIAL_LIMIT, maxLimit)).build())
                .build();
    }

    /** Starts the search now, queues it, or sheds it when it would end past {@code deadlineMs}. */
    void offer(T item, long deadlineMs) {
        List<Runnable> todo = new ArrayList<>(1);
        synchronized (this) {
            long now = nowMs();
            if (waiting.isEmpty()) {
                if (now > deadlineMs) {
                    todo.add(() -> shed.shed(item, 0, deadlineMs, now));
                } else {
                    Permit p = tryAcquire();
                    if (p != null) {
                        todo.add(() -> start.start(item, p));
                    }
                }
            }
            if (todo.isEmpty()) {
                long expected = expectedWaitMs(waiting.size());
                if (waiting.size() >= capacity || now + expected > deadlineMs) {
                    todo.add(() -> shed.shed(item, expected, deadlineMs, now));
                } else {
                    waiting.add(new Waiting<>(item, deadlineMs));
                }
            }
        }
        todo.forEach(Runnable::run);
    }

    /** The search answered: its latency feeds the limit and the expected waits. */
    void succeeded(Permit p) {
        measure(p);
        p.listener.onSuccess();
        sweep();
    }

    /** The search outlived its budget: it was slow (measured), and the limit backs off. */
    void timedOut(Permit p) {
        measure(p);
        p.listener.onDropped();
        sweep();
    }

    /** The search failed (Milvus down, refused): the limit backs off; its latency says nothing. */
    void failed(Permit p) {
        p.listener.onDropped();
        sweep();
    }

    /**
     * Takes back a search that is still waiting (its time in the async operator ran out).
     *
     * @return whether it was waiting (it will not start)
     */
    synchronized boolean cancel(Predicate<T> which) {
        return waiting.removeIf(w -> which.test(w.item()));
    }

    /**
     * Starts waiting searches while permits are free, and sheds every waiting search whose
     * expected wait now passes its deadline. Runs after every search and on a timer, so a
     * search is shed as soon as it must be also while no search ends.
     */
    void sweep() {
        List<Runnable> todo = new ArrayList<>();
        synchronized (this) {
            long now = nowMs();
            while (!waiting.isEmpty()) {
                Waiting<T> head = waiting.peek();
                if (now > head.deadlineMs()) {
                    waiting.poll();
                    todo.add(() -> shed.shed(head.item(), 0, head.deadlineMs(), now));
                    continue;
                }
                Permit p = tryAcquire();
                if (p == null) {
                    break;
                }
                waiting.poll();
                todo.add(() -> start.start(head.item(), p));
            }
            int ahead = 0;
            for (Iterator<Waiting<T>> it = waiting.iterator(); it.hasNext(); ) {
                Waiting<T> w = it.next();
                long expected = expectedWaitMs(ahead);
                if (now + expected > w.deadlineMs()) {
                    it.remove();
                    todo.add(() -> shed.shed(w.item(), expected, w.deadlineMs(), now));
                } else {
                    ahead++;
                }
            }
        }
        todo.forEach(Runnable::run);
    }

    /** The current concurrency limit. */
    int limit() {
        return limiter.getLimit();
    }

    /** Searches holding a permit. */
    int inFlight() {
        return limiter.getInflight();
    }

    synchronized int waiting() {
        return waiting.size();
    }

    /** The measured search latency, ms (0 before the first search). */
    long latencyMs() {
        return Math.round(latencyNanos / 1e6);
    }

    private long expectedWaitMs(int ahead) {
        return Math.round((ahead / Math.max(1, limit()) + 1) * latencyNanos / 1e6);
    }

    private Permit tryAcquire() {
        return limiter.acquire(null).map(l -> new Permit(l, nanos.getAsLong())).orElse(null);
    }

    private void measure(Permit p) {
        long took = nanos.getAsLong() - p.grantedNanos;
        synchronized (this) {
            latencyNanos = latencyNanos == 0 ? took : latencyNanos + LATENCY_WEIGHT * (took - latencyNanos);
        }
    }

    private long nowMs() {
        return clockMs.getAsLong();
    }
}
