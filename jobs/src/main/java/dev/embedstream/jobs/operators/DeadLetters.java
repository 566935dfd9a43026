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
}
