package dev.embedstream.jobs.settings;

import static dev.embedstream.common.EmbedstreamOptions.*;
import static dev.embedstream.jobs.settings.Rules.require;

import dev.embedstream.common.model.ResponseBudget;
import dev.embedstream.common.validation.DocumentLimits;
import dev.embedstream.jobs.operators.DeadLetters;
import java.io.Serializable;
import org.apache.flink.configuration.ReadableConfig;

/**
 * What one record may be, and what the job writes for one: {@code limits.*}, the dead-letter
 * payload cap and the response and reply budgets.
 */
public record LimitSettings(DocumentLimits documents, int dlqMaxPayloadBytes, long responseMaxBytes, long replyMaxBytes)
        implements Serializable {

    /** Key, headers and record batch framing on top of a value. */
    public static final long RECORD_OVERHEAD = 8 * 1024;

    public static LimitSettings from(ReadableConfig c) {
        LimitSettings s = new LimitSettings(
                new DocumentLimits(c.get(LIMITS_MAX_TEXT_BYTES), c.get(LIMITS_MAX_METADATA_BYTES),
                        c.get(LIMITS_MAX_METADATA_KEYS), c.get(LIMITS_MAX_METADATA_VALUE_BYTES)),
                c.get(DLQ_MAX_PAYLOAD_BYTES),
                c.get(RESPONSE_MAX_BYTES).getBytes(),
                c.get(DEDUP_REPLY_MAX_BYTES).getBytes());
        require(s.dlqMaxPayloadBytes >= 1024 && s.dlqMaxPayloadBytes <= 512 * 1024, DLQ_MAX_PAYLOAD_BYTES,
                "must be in [1 KiB, 512 KiB] (a dead letter must fit Kafka's 1 MiB record limit)");
        // What the job writes must fit what its producers accept, or one record would fail the job.
        long maxRequest = KafkaSettings.from(c).maxRequestBytes();
        String roomIn = "must leave room in the producer's max.request.size (" + maxRequest
                + " bytes): lower it or raise kafka.properties.max.request.size";
        require(s.responseMaxBytes + RECORD_OVERHEAD <= maxRequest, RESPONSE_MAX_BYTES, roomIn);
        require(s.deadLetters().maxRecordBytes() + RECORD_OVERHEAD <= maxRequest, DLQ_MAX_PAYLOAD_BYTES, roomIn);
        // The range is ResponseBudget's: the budgets it can always meet.
        ResponseBudget.checkBudget(s.responseMaxBytes, RESPONSE_MAX_BYTES.key());
        ResponseBudget.checkBudget(s.replyMaxBytes, DEDUP_REPLY_MAX_BYTES.key());
        require(s.replyMaxBytes <= s.responseMaxBytes, DEDUP_REPLY_MAX_BYTES, "must not exceed " + RESPONSE_MAX_BYTES.key());
        return s;
    }

    /** The dead-letter builder every operator that dead-letters shares. */
    public DeadLetters deadLetters() {
        return new DeadLetters(dlqMaxPayloadBytes);
    }

    /** The longest query text, the same bound as a document's. */
    public int maxTextBytes() {
        return documents.maxTextBytes();
    }
}
