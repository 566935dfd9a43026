package dev.embedstream.jobs.types;

/** A Kafka record as it arrived: bytes untouched, so a bad one can be dead-lettered verbatim. */
public record KafkaRecord(String topic, int partition, long offset, long timestamp, byte[] key, byte[] value) {}
