package dev.embedstream.jobs.operators;

import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.DeadLetter;
import dev.embedstream.common.model.ErrorInfo;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.KafkaRecord;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.OutputTag;

/** Builds dead letters: where the record came from, why it failed, and the payload verbatim. */
public final class DeadLetters {

    public static final OutputTag<DeadLetterRecord> TAG = new OutputTag<>("dead-letters") {};

    private DeadLetters() {}

    public static DeadLetterRecord of(KafkaRecord r, String stage, String code, String message, long now) {
        String payload;
        String encoding;
        if (r.value() == null) {
            payload = null;
            encoding = "none";
        } else {
            try {
                payload = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(r.value())).toString();
                encoding = "utf8";
            } catch (CharacterCodingException e) {
                payload = Base64.getEncoder().encodeToString(r.value());
                encoding = "base64";
            }
        }
        DeadLetter dl = new DeadLetter(r.topic(), r.partition(), r.offset(), stage, new ErrorInfo(code, message),
                payload, encoding, now);
        return new DeadLetterRecord(r.key(), Json.write(dl));
    }

    /**
     * Dead letters per error code, so an operator sees which contract rule producers break
     * (Prometheus: {@code ..._embedstream_code_deadLetters{code="invalid_json"}}). A code's counter
     * is registered on its first dead letter; codes are a fixed vocabulary, so the series stay few.
     */
    public static final class CodeCounters {

        private final MetricGroup group;
        private final Map<String, Counter> byCode = new HashMap<>();

        /** {@code group} is the operator's {@code embedstream} metric group. */
        public CodeCounters(MetricGroup group) {
            this.group = group;
        }

        public void inc(String code) {
            byCode.computeIfAbsent(code, c -> group.addGroup("code", c).counter("deadLetters")).inc();
        }
    }
}
