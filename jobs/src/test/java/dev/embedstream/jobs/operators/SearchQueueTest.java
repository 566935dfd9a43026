package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Searches wait for an adaptive number of permits, and a search that would end too late is shed at once. */
class SearchQueueTest {

    private final AtomicLong nowMs = new AtomicLong(1_000_000);
    /** Searches holding a permit, oldest first. */
    private final ArrayDeque<SearchQueue.Permit> running = new ArrayDeque<>();
    private final List<String> started = new ArrayList<>();
    /** Shed searches, with the expected wait they were shed for. */
    private final Map<String, Long> shed = new TreeMap<>();

    private SearchQueue<String> queue(int maxInFlight) {
        return new SearchQueue<>(maxInFlight, maxInFlight, nowMs::get, () -> nowMs.get() * 1_000_000,
                (item, permit) -> {
                    started.add(item);
                    running.add(permit);
                }, (item, expectedWaitMs, deadlineMs, now) -> shed.put(item, expectedWaitMs));
    }

    /** Lets {@code ms} pass and ends the oldest running search. */
    private void finishOldest(SearchQueue<String> q, long ms) {
        nowMs.addAndGet(ms);
        q.succeeded(running.poll());
    }

    @Test
    void waitingSearchesWhoseExpectedWaitPassesTheirDeadlineAreShedAtOnceTheOthersRun() {
        SearchQueue<String> q = queue(16); // the limit starts at 8
        q.offer("warm-up", Long.MAX_VALUE);
        finishOldest(q, 100); // searches take 100 ms
        for (int i = 0; i < 8; i++) {
            q.offer("run-" + i, nowMs.get() + 5_000);
        }
        assertThat(started).hasSize(9);
        // The next 8 would answer in 100 ms, the 8 after them in 200 ms.
        for (int i = 0; i < 8; i++) {
            q.offer("wait-" + i, nowMs.get() + 150);
        }
        for (int i = 0; i < 4; i++) {
            q.offer("late-" + i, nowMs.get() + 150);
        }
        assertThat(shed).containsOnlyKeys("late-0", "late-1", "late-2", "late-3").containsValue(200L);
        assertThat(q.waiting()).isEqualTo(8);

        while (!running.isEmpty()) {
            finishOldest(q, 10);
        }
        assertThat(started).contains("wait-0", "wait-7");
        assertThat(shed).hasSize(4);
    }

    @Test
    void aWaitingSearchIsShedWhenItsDeadlineNearsAlsoWhileNoSearchEnds() {
        SearchQueue<String> q = queue(1);
        q.offer("warm-up", Long.MAX_VALUE);
        finishOldest(q, 100);
        q.offer("stuck", Long.MAX_VALUE); // holds the only permit and never ends
        q.offer("waits", nowMs.get() + 150);
        q.sweep();
        assertThat(shed).isEmpty();
        nowMs.addAndGet(60); // now 100 ms of search would end past the deadline
        q.sweep();
        assertThat(shed).containsOnlyKeys("waits");
        assertThat(q.waiting()).isZero();
    }

    @Test
    void theConcurrencyLimitShrinksWhenSearchLatencyRises() {
        SearchQueue<String> q = queue(64);
        int n = 0;
        // Demand always above the limit: the limit grows while searches stay fast ...
        for (int round = 0; round < 300; round++) {
            while (q.waiting() < 16) {
                q.offer("q" + n++, Long.MAX_VALUE);
            }
            finishOldest(q, 10);
        }
        int fastLimit = q.limit();
        assertThat(fastLimit).isGreaterThan(SearchQueue.INITIAL_LIMIT);
        // ... and backs off once each search takes ten times as long.
        for (int round = 0; round < 100; round++) {
            while (q.waiting() < 16) {
                q.offer("q" + n++, Long.MAX_VALUE);
            }
            finishOldest(q, 100);
        }
        assertThat(q.limit()).isLessThan(fastLimit / 2);
        assertThat(q.latencyMs()).isGreaterThan(50);
    }
}
