package dev.embedstream.jobs.io;

import static dev.embedstream.common.EmbedstreamOptions.*;

import dev.embedstream.jobs.PipelineSinks;
import dev.embedstream.jobs.PipelineSources;
import dev.embedstream.jobs.types.KafkaRecord;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

/** Builds the job's Kafka sources and sinks from its options. */
public final class KafkaIO {

    /** Any {@code kafka.properties.X} option is passed to every Kafka client as property X. */
    public static final String PASSTHROUGH_PREFIX = "kafka.properties.";

    private KafkaIO() {}

    public static PipelineSources sources(Configuration conf) {
        return new PipelineSources(
                source(conf, conf.get(TOPIC_DOCUMENTS), "documents"),
                source(conf, conf.get(TOPIC_QUERIES), "queries"));
    }

    public static PipelineSinks sinks(Configuration conf) {
        return new PipelineSinks(
                sink(conf, new ReplySerializer(conf.get(TOPIC_RESPONSES), conf.get(RESPONSE_MAX_BYTES).getBytes())),
                sink(conf, new DeadLetterSerializer(conf.get(TOPIC_DLQ))));
    }

    private static KafkaSource<KafkaRecord> source(Configuration conf, String topic, String name) {
        Properties props = passthrough(conf);
        props.setProperty("client.id.prefix", "embedstream-" + name);
        // Queries must not wait for a full fetch: answer as soon as one record is there.
        props.putIfAbsent("fetch.max.wait.ms", "50");
        return KafkaSource.<KafkaRecord>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP))
                .setTopics(topic)
                .setGroupId(conf.get(KAFKA_GROUP_ID))
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new KafkaRecordDeserializer())
                .setProperties(props)
                .build();
    }

    private static <T> KafkaSink<T> sink(Configuration conf, KafkaRecordSerializationSchema<T> serializer) {
        Properties props = passthrough(conf);
        // Responses are latency-bound: send at once rather than lingering for a fuller batch.
        props.putIfAbsent("linger.ms", "0");
        return KafkaSink.<T>builder()
                .setBootstrapServers(conf.get(KAFKA_BOOTSTRAP))
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                .setKafkaProducerConfig(props)
                .build();
    }

    /** The {@code kafka.properties.*} options as Kafka client properties (also for LocalRunner's admin client). */
    public static Properties passthrough(Configuration conf) {
        Properties props = new Properties();
        for (Map.Entry<String, String> e : conf.toMap().entrySet()) {
            if (e.getKey().startsWith(PASSTHROUGH_PREFIX)) {
                props.setProperty(e.getKey().substring(PASSTHROUGH_PREFIX.length()), e.getValue());
            }
        }
        return props;
    }
}
