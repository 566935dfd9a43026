package dev.embedstream.jobs;

import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.Reply;
import org.apache.flink.api.connector.sink2.Sink;

/** Where the job writes responses and dead letters (Kafka in production; any sink in tests). */
public record PipelineSinks(Sink<Reply> responses, Sink<DeadLetterRecord> deadLetters) {}
