package dev.embedstream.jobs.types;

/**
 * Where a document event was read (topic, partition, offset), carried to every later stage so a
 * record that fails there is dead-lettered with a pointer a person can follow back to Kafka.
 */
public record Origin(String topic, int partition, long offset) {}
