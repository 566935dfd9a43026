package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;

import dev.embedstream.jobs.io.KafkaIO;
import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.configuration.ReadableConfig;

/**
 * What the operators that build their own Kafka producer need: the servers, the dead-letter topic
 * and the {@code kafka.properties.*} passthrough (security settings, say), without their prefix.
 */
public record KafkaSettings(String bootstrap, String dlqTopic, Map<String, String> properties) implements Serializable {

    /** Kafka's default {@code max.request.size}. */
    public static final long KAFKA_MAX_REQUEST = 1024 * 1024;

    public static KafkaSettings from(ReadableConfig c) {
        return new KafkaSettings(c.get(KAFKA_BOOTSTRAP), c.get(TOPIC_DLQ), properties(c));
    }

    /** The {@code kafka.properties.*} options without their prefix. */
    public static Map<String, String> properties(ReadableConfig c) {
        Map<String, String> props = new TreeMap<>();
        c.toMap().forEach((k, v) -> {
            if (k.startsWith(KafkaIO.PASSTHROUGH_PREFIX)) {
                props.put(k.substring(KafkaIO.PASSTHROUGH_PREFIX.length()), v);
            }
        });
        return Map.copyOf(props);
    }

    /** The largest request the job's producers send: what every record the job writes must fit. */
    public long maxRequestBytes() {
        return Long.parseLong(properties.getOrDefault("max.request.size", String.valueOf(KAFKA_MAX_REQUEST)));
    }

    /** The passthrough may carry SASL passwords: print only its keys. */
    @Override
    public String toString() {
        return "KafkaSettings[bootstrap=" + bootstrap + ", dlqTopic=" + dlqTopic + ", properties=" + properties.keySet() + "]";
    }
}
