package dev.embedstream.jobs.cli;

import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/** A Kafka producer for the CLI: durable (acks=all, idempotent) and bounded in time. */
final class DocumentPublisher implements AutoCloseable {

    private final KafkaProducer<String, String> producer;

    DocumentPublisher(Properties base) {
        Properties p = new Properties();
        p.putAll(base);
        p.putIfAbsent("acks", "all");
        p.putIfAbsent("enable.idempotence", "true");
        p.putIfAbsent("linger.ms", "5");
        p.putIfAbsent("delivery.timeout.ms", "60000");
        p.putIfAbsent("max.block.ms", "30000");
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    Future<RecordMetadata> send(String topic, String key, String json) {
        return producer.send(new ProducerRecord<>(topic, key, json));
    }

    void send(String topic, String key, String json, Callback callback) {
        producer.send(new ProducerRecord<>(topic, key, json), callback);
    }

    void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close();
    }
}
