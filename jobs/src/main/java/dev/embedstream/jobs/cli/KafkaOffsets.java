package dev.embedstream.jobs.cli;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** Reads the offsets {@link BackfillProgress} is made of, each call bounded by {@code timeout}. */
final class KafkaOffsets implements AutoCloseable {

    private final Admin admin;
    private final String topic;
    private final Duration timeout;
    private final String bootstrap;

    KafkaOffsets(Properties kafka, String topic, Duration timeout) {
        Properties p = new Properties();
        p.putAll(kafka);
        p.putIfAbsent("request.timeout.ms", String.valueOf(timeout.toMillis()));
        p.putIfAbsent("default.api.timeout.ms", String.valueOf(timeout.toMillis()));
        this.admin = Admin.create(p);
        this.bootstrap = p.getProperty("bootstrap.servers");
        this.topic = topic;
        this.timeout = timeout;
    }

    /** The end offset of every partition of the topic (what a replay has to reach). */
    Map<TopicPartition, Long> ends() throws Exception {
        return offsets(OffsetSpec.latest());
    }

    Map<TopicPartition, Long> beginnings() throws Exception {
        return offsets(OffsetSpec.earliest());
    }

    /** The group's committed offsets on this topic; partitions without a commit are missing. */
    Map<TopicPartition, Long> committed(String group) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> all = await(admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata());
        Map<TopicPartition, Long> mine = new HashMap<>();
        all.forEach((p, o) -> {
            if (o != null && p.topic().equals(topic)) {
                mine.put(p, o.offset());
            }
        });
        return mine;
    }

    /** Progress of {@code group} towards {@code target} (the ends read when the migration started). */
    BackfillProgress progress(String group, Map<TopicPartition, Long> target) throws Exception {
        return new BackfillProgress(beginnings(), target, committed(group));
    }

    private Map<TopicPartition, Long> offsets(OffsetSpec spec) throws Exception {
        List<TopicPartition> partitions = await(admin.describeTopics(List.of(topic)).allTopicNames())
                .get(topic).partitions().stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        partitions.forEach(p -> request.put(p, spec));
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> result = await(admin.listOffsets(request).all());
        Map<TopicPartition, Long> out = new HashMap<>();
        result.forEach((p, info) -> out.put(p, info.offset()));
        return out;
    }

    /** A Kafka answer within the deadline, or an IOException that says which broker and why. */
    private <T> T await(org.apache.kafka.common.KafkaFuture<T> f) throws java.io.IOException, InterruptedException {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new java.io.IOException("Kafka (" + bootstrap + "), topic " + topic + ": " + cause.getMessage(), cause);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new java.io.IOException("Kafka (" + bootstrap + ") did not answer within " + timeout
                    + "; is it running? (pass --bootstrap HOST:PORT before the command)", e);
        }
    }

    @Override
    public void close() {
        admin.close(timeout);
    }
}
