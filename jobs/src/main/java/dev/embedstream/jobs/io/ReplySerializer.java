package dev.embedstream.jobs.io;

import dev.embedstream.jobs.types.Reply;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes a response keyed by request id, to the partition the query asked for when it exists;
 * a partition the topic does not have falls back to keyed partitioning rather than failing the job.
 */
public class ReplySerializer implements KafkaRecordSerializationSchema<Reply> {

    private final String topic;

    public ReplySerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(Reply reply, KafkaSinkContext context, Long timestamp) {
        Integer partition = null;
        if (reply.replyPartition() >= 0) {
            for (int p : context.getPartitionsForTopic(topic)) {
                if (p == reply.replyPartition()) {
                    partition = p;
                    break;
                }
            }
        }
        return new ProducerRecord<>(topic, partition, reply.requestId().getBytes(StandardCharsets.UTF_8),
                reply.json().getBytes(StandardCharsets.UTF_8));
    }
}
