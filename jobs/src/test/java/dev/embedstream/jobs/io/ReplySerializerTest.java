package dev.embedstream.jobs.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Response;
import dev.embedstream.jobs.types.Reply;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema.KafkaSinkContext;

/** The response sink's serializer never hands the producer a record it would refuse. */
class ReplySerializerTest {

    private static final int BUDGET = 64 * 1024;

    private final SimpleCounter tooLarge = new SimpleCounter();
    private final ReplySerializer serializer = new ReplySerializer("responses", BUDGET);

    private static final KafkaSinkContext PARTITIONS_0_TO_3 = new KafkaSinkContext() {
        @Override
        public int getParallelInstanceId() {
            return 0;
        }

        @Override
        public int getNumberOfParallelInstances() {
            return 1;
        }

        @Override
        public int[] getPartitionsForTopic(String topic) {
            return new int[] {0, 1, 2, 3};
        }
    };

    @BeforeEach
    void open() {
        MetricGroup metrics = new UnregisteredMetricsGroup() {
            @Override
            public MetricGroup addGroup(String name) {
                return this;
            }

            @Override
            public Counter counter(String name) {
                assertThat(name).isEqualTo("responsesTooLarge");
                return tooLarge;
            }
        };
        serializer.open(new SerializationSchema.InitializationContext() {
            @Override
            public MetricGroup getMetricGroup() {
                return metrics;
            }

            @Override
            public UserCodeClassLoader getUserCodeClassLoader() {
                return SimpleUserCodeClassLoader.create(getClass().getClassLoader());
            }
        }, PARTITIONS_0_TO_3);
    }

    private static Reply reply(String requestId, int partition, String json) {
        return new Reply("acme", requestId, "digest", partition, "ok", json);
    }

    @Test
    void aReplyWithinTheBudgetIsWrittenAsItIs() {
        String json = "{\"request_id\":\"q-77\",\"status\":\"ok\",\"hits\":[]}";
        ProducerRecord<byte[], byte[]> r = serializer.serialize(reply("q-77", 2, json), PARTITIONS_0_TO_3, null);
        assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("q-77");
        assertThat(new String(r.value(), StandardCharsets.UTF_8)).isEqualTo(json);
        assertThat(r.partition()).isEqualTo(2);
        assertThat(serializer.serialize(reply("q-77", 9, json), PARTITIONS_0_TO_3, null).partition())
                .as("a partition the topic lacks falls back to the key").isNull();
        assertThat(tooLarge.getCount()).isZero();
    }

    @Test
    void theSerializerNeverEmitsMoreThanTheBudget() {
        String oversized = Json.write(Response.error("q-77", "search_failed", "short", 1))
                .replace("short", "x".repeat(3 * BUDGET)); // past Response.error's own bound, as a bug upstream would
        ProducerRecord<byte[], byte[]> r = serializer.serialize(reply("q-77", 1, oversized), PARTITIONS_0_TO_3, null);

        assertThat(r.value().length).isLessThanOrEqualTo(BUDGET);
        Response sent = Json.read(new String(r.value(), StandardCharsets.UTF_8), Response.class);
        assertThat(sent.requestId()).isEqualTo("q-77");
        assertThat(sent.status()).isEqualTo("error");
        assertThat(sent.error().code()).isEqualTo("response_too_large");
        assertThat(sent.truncated()).isTrue();
        assertThat(r.partition()).as("still where the client listens").isEqualTo(1);
        assertThat(tooLarge.getCount()).isEqualTo(1);
    }

    @Test
    void aKeyNoValidRequestIdCanHaveIsDroppedNotSent() {
        assertThat(serializer.serialize(reply("k".repeat(ReplySerializer.MAX_KEY_BYTES + 1), -1, "{}"), PARTITIONS_0_TO_3, null))
                .isNull();
        assertThat(tooLarge.getCount()).isEqualTo(1);
    }

    @Test
    void aBudgetOverKafkasRequestLimitIsRefused() {
        assertThatThrownBy(() -> new ReplySerializer("responses", 1024 * 1024))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("response.max-bytes");
    }
}
