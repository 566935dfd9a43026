package dev.embedstream.jobs.operators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.Hashing;
import dev.embedstream.common.Utf8;
import dev.embedstream.common.json.Json;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.KafkaRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

    private static final int BUDGET = 64 * 1024;
    private final DeadLetters letters = new DeadLetters(BUDGET);

    private static int size(DeadLetterRecord dl) {
        return dl.json().getBytes(StandardCharsets.UTF_8).length + (dl.key() == null ? 0 : dl.key().length);
    }

    private DeadLetterRecord of(byte[] key, byte[] value) {
        return letters.of(new KafkaRecord("docs", 3, 42, 0, key, value), "parse", "invalid_json", "bad", 1L);
    }

    @Test
    void controlCharactersThatEscapeSixfoldStillFitTheBudget() throws Exception {
        byte[] value = new byte[200_000];
        Arrays.fill(value, (byte) 0x01);
        DeadLetterRecord dl = of("k".getBytes(StandardCharsets.UTF_8), value);
        assertThat(size(dl)).isLessThanOrEqualTo(letters.maxRecordBytes()).isLessThan(BUDGET + 8 * 1024);
        JsonNode json = Json.mapper().readTree(dl.json());
        assertThat(json.get("payload_encoding").asText()).isEqualTo("utf8");
        assertThat(json.get("payload_truncated").asBoolean()).isTrue();
        assertThat(json.get("payload_bytes").asInt()).isEqualTo(200_000);
        assertThat(json.get("payload_sha256").asText()).isEqualTo(Hashing.sha256Hex(value));
        // The kept prefix is the payload's own beginning, as many characters as fit.
        assertThat(json.get("payload").asText()).hasSize(BUDGET / 6).matches("\u0001+");
    }

    @Test
    void bytesThatAreNotUtf8AreCutBeforeBase64() throws Exception {
        byte[] value = new byte[900_000];
        new Random(1).nextBytes(value);
        value[0] = (byte) 0xff;
        DeadLetterRecord dl = of(null, value);
        assertThat(size(dl)).isLessThanOrEqualTo(letters.maxRecordBytes());
        JsonNode json = Json.mapper().readTree(dl.json());
        assertThat(json.get("payload_encoding").asText()).isEqualTo("base64");
        byte[] kept = Base64.getDecoder().decode(json.get("payload").asText());
        assertThat(kept).isEqualTo(Arrays.copyOf(value, kept.length));
        assertThat(json.get("payload_bytes").asInt()).isEqualTo(900_000);
    }

    @Test
    void aHugeKeyIsReplacedByItsHash() {
        byte[] key = new byte[500_000];
        DeadLetterRecord dl = of(key, "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(new String(dl.key(), StandardCharsets.US_ASCII)).isEqualTo("sha256:" + Hashing.sha256Hex(key));
    }

    @Test
    void aPayloadWithinTheBudgetIsKeptWhole() throws Exception {
        String value = "{\"doc_id\":\"d\",\"text\":\"\u00e9t\u00e9 \ud83d\ude00\"}";
        JsonNode json = Json.mapper().readTree(of(null, value.getBytes(StandardCharsets.UTF_8)).json());
        assertThat(json.get("payload").asText()).isEqualTo(value);
        assertThat(json.has("payload_truncated")).isFalse();
        assertThat(json.get("offset").asLong()).isEqualTo(42);
    }

    @Test
    void multiByteTextIsCutOnACharacterBoundaryWithinTheBudget() {
        String s = "\ud83d\ude00".repeat(100) + "\"\\";
        String cut = Utf8.jsonPrefix(s, 41);
        assertThat(cut).isEqualTo("\ud83d\ude00".repeat(10));
        assertThat(Json.write(cut).getBytes(StandardCharsets.UTF_8).length - 2).isLessThanOrEqualTo(41);
    }

    @Test
    void aHugeMessageIsAbbreviated() throws Exception {
        DeadLetterRecord dl = letters.of(new KafkaRecord("docs", 0, 0, 0, null, null), "parse", "x",
                "\u0001".repeat(1_000_000), 1L);
        assertThat(size(dl)).isLessThanOrEqualTo(letters.maxRecordBytes());
    }
}
