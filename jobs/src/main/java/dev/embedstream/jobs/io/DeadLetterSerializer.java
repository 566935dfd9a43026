package dev.embedstream.jobs.io;

import dev.embedstream.jobs.types.DeadLetterRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Writes a dead letter under the original record's key. */
public class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetterRecord> {

    private final String topic;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetterRecord dl, KafkaSinkContext context, Long timestamp) {
        return new ProducerRecord<>(topic, dl.key(), dl.json().getBytes(StandardCharsets.UTF_8));
    }
}
