package dev.embedstream.jobs.operators;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How long the slow query path (dedup, embedding, search) has recently taken in this TaskManager,
 * from a query's Kafka timestamp to its answer: an exponentially weighted average the search
 * operator feeds and {@link ShedQueries} reads, per job. It decays toward zero while no answer
 * comes (half-life {@link #HALF_LIFE_MS}), so after shedding everything the path is tried again.
 */
final class QueryPressure {

    static final long HALF_LIFE_MS = 500;
    private static final double WEIGHT = 0.2;
    private static final Map<String, QueryPressure> BY_JOB = new ConcurrentHashMap<>();

    private double latencyMs;
    private long updatedAtMs;

    /** The pressure of a job in this JVM (its operators share it). */
    static QueryPressure of(String jobId) {
        return BY_JOB.computeIfAbsent(jobId, j -> new QueryPressure());
    }

    /** A slow-path answer came {@code latencyMs} after its query was sent. */
    synchronized void answered(long nowMs, long latencyMs) {
        this.latencyMs = decayed(nowMs) * (1 - WEIGHT) + WEIGHT * Math.max(0, latencyMs);
        this.updatedAtMs = nowMs;
    }

    /** What a query entering now may expect the slow path to take. */
    synchronized long expectedMs(long nowMs) {
        return Math.round(decayed(nowMs));
    }

    private double decayed(long nowMs) {
        long quiet = Math.max(0, nowMs - updatedAtMs);
        return latencyMs * Math.pow(0.5, (double) quiet / HALF_LIFE_MS);
    }
}
