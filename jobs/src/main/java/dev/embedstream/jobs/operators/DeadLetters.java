package dev.embedstream.jobs.operators;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.DeadLetter;
import dev.embedstream.common.model.ErrorInfo;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.KafkaRecord;
import dev.embedstream.jobs.types.Origin;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.OutputTag;

/**
 * Builds dead letters: where the record came from, why it failed, and the payload, verbatim up to
 * a byte budget. Whatever the input, a dead letter fits the producer's limit: the payload is cut
 * so that it takes at most {@code maxPayloadBytes} inside the JSON (escapes and base64 included),
 * the message and the key are bounded too, and a cut payload keeps the original length and sha256.
 */
public final class DeadLetters implements Serializable {

    public static final OutputTag<DeadLetterRecord> TAG = new OutputTag<>("dead-letters") {};

    /** Longest error message kept (characters); parser and Milvus messages can quote input. */
    static final int MAX_MESSAGE_CHARS = 1024;
    /** A longer key (Kafka allows ~1 MB) is replaced by {@code sha256:<hex>} of it. */
    static final int MAX_KEY_BYTES = 1024;
    /** Everything in a dead letter besides payload, message and key: names, numbers, hex. */
    static final int ENVELOPE_BYTES = 2048;

    private final int maxPayloadBytes;

    public DeadLetters(int maxPayloadBytes) {
        if (maxPayloadBytes < 16) {
            throw new IllegalArgumentException("dlq.max-payload-bytes must be >= 16");
        }
        this.maxPayloadBytes = maxPayloadBytes;
    }

    /** The most a dead letter's key and value can take together. */
    public int maxRecordBytes() {
        return maxPayloadBytes + ENVELOPE_BYTES + 6 * MAX_MESSAGE_CHARS + MAX_KEY_BYTES;
    }

    /** A dead letter for a record as it was read from Kafka. */
    public DeadLetterRecord of(KafkaRecord r, String stage, String code, String message, long now) {
        return of(new Origin(r.topic(), r.partition(), r.offset()), r.key(), stage, code, message, r.value(), now);
    }

    /** A dead letter for a record that failed after parsing; {@code payload} describes it. */
    public DeadLetterRecord of(Origin origin, byte[] key, String stage, String code, String message, byte[] payload,
            long now) {
        String text = null;
        String encoding = "none";
        boolean cut = false;
        if (payload != null) {
            try {
                String utf8 = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(payload)).toString();
                text = Utf8.jsonPrefix(utf8, maxPayloadBytes);
                encoding = "utf8";
                cut = text.length() < utf8.length();
            } catch (CharacterCodingException e) {
                int keep = Math.min(payload.length, maxPayloadBytes / 4 * 3);
                text = Base64.getEncoder().encodeToString(keep == payload.length ? payload : Arrays.copyOf(payload, keep));
                encoding = "base64";
                cut = keep < payload.length;
            }
        }
        DeadLetter dl = new DeadLetter(origin.topic(), origin.partition(), origin.offset(), stage,
                new ErrorInfo(code, message == null ? null : abbreviate(message)), text, encoding, now,
                cut ? payload.length : null, cut ? Hashing.sha256Hex(payload) : null, cut ? Boolean.TRUE : null);
        return new DeadLetterRecord(boundedKey(key), Json.write(dl));
    }

    /**
     * A document as the payload of a dead letter after parsing (the original record is not
     * carried that far): its tenant, doc_id and metadata, then what the failing stage adds. The
     * payload is cut to the budget like any other.
     */
    public static byte[] documentPayload(String tenant, String docId, String metadataJson, Map<String, Object> more) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("tenant", tenant);
        doc.put("doc_id", docId);
        if (metadataJson != null) {
            Object metadata;
            try {
                metadata = Json.read(metadataJson, Map.class);
            } catch (RuntimeException e) {
                metadata = metadataJson; // shown as it came, rather than lost
            }
            doc.put("metadata", metadata);
        }
        doc.putAll(more);
        return Json.write(doc).getBytes(StandardCharsets.UTF_8);
    }

    static byte[] boundedKey(byte[] key) {
        if (key == null || key.length <= MAX_KEY_BYTES) {
            return key;
        }
        return ("sha256:" + Hashing.sha256Hex(key)).getBytes(StandardCharsets.US_ASCII);
    }

    private static String abbreviate(String message) {
        return message.length() <= MAX_MESSAGE_CHARS ? message : message.substring(0, MAX_MESSAGE_CHARS - 3) + "...";
    }

    /** Every code a dead letter can carry (docs/contract.md). */
    public static final List<String> CODES = List.of("empty_record", "invalid_utf8", "invalid_json", "not_an_object",
            "missing_field", "wrong_type", "invalid_doc_id", "invalid_request_id", "unknown_op", "invalid_tenant",
            "invalid_metadata", "metadata_too_large", "empty_text", "text_too_large", "invalid_top_k", "invalid_filter",
            "invalid_deadline_ms", "invalid_reply_partition", "too_many_chunks", "milvus_rejected", "internal_error");

    /**
     * Dead letters per error code, so an operator sees which contract rule producers break
     * (Prometheus: {@code ..._embedstream_code_deadLetters{code="invalid_json"}}). Every known code
     * is registered at zero from the start, so a panel shows 0 rather than "no data"; codes are a
     * fixed vocabulary, so the series stay few.
     */
    public static final class CodeCounters {

        private final MetricGroup group;
        private final Map<String, Counter> byCode = new HashMap<>();

        /** {@code group} is the operator's {@code embedstream} metric group. */
        public CodeCounters(MetricGroup group) {
            this.group = group;
            CODES.forEach(this::counter);
        }

        private Counter counter(String code) {
            return byCode.computeIfAbsent(code, c -> group.addGroup("code", c).counter("deadLetters"));
        }

        public void inc(String code) {
            counter(code).inc();
        }
    }
}
