package dev.embedstream.jobs.cli;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Waits on the responses topic for one request id. It positions itself at the end of every
 * partition before the query is sent, so it cannot miss the answer and reads nothing older.
 */
final class ResponseReader implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;

    ResponseReader(Properties base, String topic) {
        Properties p = new Properties();
        p.putAll(base);
        p.put("group.id", "embedstream-cli-" + UUID.randomUUID());
        p.put("enable.auto.commit", "false");
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end offsets now, before the query goes out
    }

    Optional<String> await(String requestId, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                if (requestId.equals(r.key())) {
                    return Optional.of(r.value());
                }
            }
        }
        return Optional.empty();
    }

    /** Hands every response to {@code sink} until {@code done} holds or the time is up. */
    void forEach(java.util.function.BiConsumer<String, String> sink, java.util.function.BooleanSupplier done, Duration timeout) {
        forEachRecord(r -> sink.accept(r.key(), r.value()), done, timeout);
    }

    /** As {@link #forEach}, with the whole record: its timestamp is when the job answered. */
    void forEachRecord(java.util.function.Consumer<ConsumerRecord<String, String>> sink, java.util.function.BooleanSupplier done,
            Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(50))) {
                sink.accept(r);
            }
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
