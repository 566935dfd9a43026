package dev.embedstream.jobs;

import dev.embedstream.jobs.types.KafkaRecord;
import org.apache.flink.api.connector.source.Source;

/** Where the job reads documents and queries from (Kafka in production; any source in tests). */
public record PipelineSources(Source<KafkaRecord, ?, ?> documents, Source<KafkaRecord, ?, ?> queries) {}
