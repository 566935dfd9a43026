package dev.embedstream.jobs.io;

import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.ErrorInfo;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.model.ResponseBudget;
import dev.embedstream.jobs.types.Reply;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a response keyed by request id, to the partition the query asked for when it exists;
 * a partition the topic does not have falls back to keyed partitioning rather than failing the job.
 *
 * <p>The last guard of the response budget: the reply cache already cut every answer to
 * {@code response.max-bytes}, but a record the producer refuses would fail the sink and restart
 * the job on the same record forever, so a value over the budget is never handed on. It is
 * replaced by a small {@code error} / {@code response_too_large} answer and counted
 * ({@code responsesTooLarge}). A key over {@link #MAX_KEY_BYTES} (request ids are validated to far
 * less) cannot be answered at all and is dropped, counted the same way.
 */
public class ReplySerializer implements KafkaRecordSerializationSchema<Reply> {

    private static final Logger LOG = LoggerFactory.getLogger(ReplySerializer.class);
    /** Budget plus key stay under Kafka's 1 MiB default {@code max.request.size}. */
    public static final int MAX_KEY_BYTES = 4 * 1024;

    private final String topic;
    private final int maxBytes;
    private transient Counter tooLarge;

    public ReplySerializer(String topic, long maxBytes) {
        this.topic = topic;
        this.maxBytes = ResponseBudget.checkBudget(maxBytes, "response.max-bytes");
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        tooLarge = context.getMetricGroup().addGroup("embedstream").counter("responsesTooLarge");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(Reply reply, KafkaSinkContext context, Long timestamp) {
        byte[] key = reply.requestId().getBytes(StandardCharsets.UTF_8);
        byte[] value = reply.json().getBytes(StandardCharsets.UTF_8);
        if (key.length > MAX_KEY_BYTES) {
            tooLarge.inc();
            LOG.warn("dropped a response whose request id is {} bytes (over {})", key.length, MAX_KEY_BYTES);
            return null; // the Kafka writer skips a null record
        }
        if (value.length > maxBytes) {
            tooLarge.inc();
            LOG.warn("response to request {} is {} bytes, over response.max-bytes ({}): sent as {}",
                    Utf8.prefix(reply.requestId(), 256), value.length, maxBytes, ResponseBudget.TOO_LARGE);
            value = tooLarge(reply, value.length).getBytes(StandardCharsets.UTF_8);
        }
        return new ProducerRecord<>(topic, partition(reply, context), key, value);
    }

    /** Small by construction; {@link ResponseBudget#fit} proves it against the budget anyway. */
    private String tooLarge(Reply reply, int bytes) {
        Response error = new Response(reply.requestId(), reply.tenant(), Response.ERROR, null, null, null, null, new ErrorInfo(ResponseBudget.TOO_LARGE,
                "the response was " + bytes + " bytes, over response.max-bytes (" + maxBytes + "); ask for fewer hits"), true, null);
        return ResponseBudget.fit(Json.write(error), maxBytes);
    }

    private Integer partition(Reply reply, KafkaSinkContext context) {
        if (reply.replyPartition() >= 0) {
            for (int p : context.getPartitionsForTopic(topic)) {
                if (p == reply.replyPartition()) {
                    return p;
                }
            }
        }
        return null;
    }
}
