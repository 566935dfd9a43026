package dev.embedstream.jobs.cli;

import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.TopicPartition;

/**
 * How far a backfill has replayed the documents topic, from offsets alone: per partition the
 * beginning offset (compaction and retention move it), the end offset read when the migration
 * started (the corpus to replay) and the backfill group's committed offset (the Kafka source
 * commits on every completed checkpoint). Offsets count records, so on a compacted topic the total
 * is an upper bound on documents until the cleaner has run.
 *
 * @param beginning the first offset per partition
 * @param target the end offset per partition when the migration started
 * @param committed the group's committed offset per partition; a partition it has not committed
 *     yet is missing
 */
record BackfillProgress(
        Map<TopicPartition, Long> beginning, Map<TopicPartition, Long> target, Map<TopicPartition, Long> committed) {

    BackfillProgress {
        Objects.requireNonNull(beginning);
        Objects.requireNonNull(target);
        Objects.requireNonNull(committed);
    }

    /** Records to replay: the target minus the beginning, summed over partitions. */
    long total() {
        long sum = 0;
        for (var e : target.entrySet()) {
            sum += Math.max(0, e.getValue() - beginningOf(e.getKey()));
        }
        return sum;
    }

    /** Records replayed, each partition counted from its beginning and capped at its target. */
    long replayed() {
        long sum = 0;
        for (var e : target.entrySet()) {
            TopicPartition p = e.getKey();
            long begin = beginningOf(p);
            long end = Math.max(begin, e.getValue());
            Long at = committed.get(p);
            if (at != null) {
                sum += Math.min(end, Math.max(begin, at)) - begin;
            }
        }
        return sum;
    }

    /** Records still to replay up to the target: 0 once caught up. */
    long lag() {
        return total() - replayed();
    }

    /**
     * Whether every partition has committed at least its target. A partition with nothing to
     * replay counts as caught up even before the group commits there.
     */
    boolean caughtUp() {
        return lag() == 0;
    }

    private long beginningOf(TopicPartition p) {
        return beginning.getOrDefault(p, 0L);
    }
}
