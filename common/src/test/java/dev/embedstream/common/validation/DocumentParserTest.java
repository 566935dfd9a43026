package dev.embedstream.common.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DocumentParserTest {

    private final DocumentParser parser = new DocumentParser(1024);

    private DocumentEvent parse(String json) throws InvalidInputException {
        return parser.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validUpsertKeepsEveryField() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"kb-1\",\"op\":\"upsert\",\"text\":\"hello\",\"tenant\":\"acme\","
                + "\"metadata\":{\"lang\":\"en\",\"n\":3,\"x\":1.5,\"ok\":true}}");
        assertThat(e.docId()).isEqualTo("kb-1");
        assertThat(e.op()).isEqualTo(Op.UPSERT);
        assertThat(e.tenant()).isEqualTo("acme");
        assertThat(e.metadata()).containsEntry("lang", "en").containsEntry("n", 3L).containsEntry("x", 1.5)
                .containsEntry("ok", true);
    }

    @Test
    void opAndTenantAndMetadataHaveDefaults() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"d\",\"text\":\"t\"}");
        assertThat(e.op()).isEqualTo(Op.UPSERT);
        assertThat(e.tenant()).isEqualTo("default");
        assertThat(e.metadata()).isEmpty();
    }

    @Test
    void deleteNeedsNoText() throws Exception {
        DocumentEvent e = parse("{\"doc_id\":\"d\",\"op\":\"delete\"}");
        assertThat(e.op()).isEqualTo(Op.DELETE);
        assertThat(e.text()).isNull();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "not json at all|invalid_json",
        "{\"doc_id\":\"d\",\"text\":\"t\"} trailing|invalid_json",
        "[1,2]|not_an_object",
        "\"just a string\"|not_an_object",
        "{\"text\":\"t\"}|missing_field",
        "{\"doc_id\":7,\"text\":\"t\"}|wrong_type",
        "{\"doc_id\":\"\",\"text\":\"t\"}|invalid_doc_id",
        "{\"doc_id\":\"d\"}|missing_field",
        "{\"doc_id\":\"d\",\"text\":5}|wrong_type",
        "{\"doc_id\":\"d\",\"text\":\"   \"}|empty_text",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"op\":\"merge\"}|unknown_op",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"tenant\":\"a b\"}|invalid_tenant",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":[1]}|invalid_metadata",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":{\"b\":1}}}|invalid_metadata",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":null}}|invalid_metadata",
        "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"bad key\":1}}|invalid_metadata",
        "{\"doc_id\":\"d\",\"doc_id\":\"e\",\"text\":\"t\"}|invalid_json",
    })
    void badDocumentIsRejectedWithItsCode(String json, String code) {
        assertThatThrownBy(() -> parse(json))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.getMessage()).isNotBlank();
                });
    }

    @Test
    void docIdOver512BytesIsRejected() {
        String id = "é".repeat(257); // 514 bytes
        assertThatThrownBy(() -> parse("{\"doc_id\":\"" + id + "\",\"text\":\"t\"}"))
                .hasFieldOrPropertyWithValue("code", "invalid_doc_id");
    }

    @Test
    void textOverTheByteLimitIsRejected() {
        assertThatThrownBy(() -> parse("{\"doc_id\":\"d\",\"text\":\"" + "x".repeat(1025) + "\"}"))
                .hasFieldOrPropertyWithValue("code", "text_too_large")
                .hasMessageContaining("limits.max-text-bytes");
    }

    @Test
    void invalidUtf8IsRejectedNotRepaired() {
        byte[] bad = {'{', '"', 'd', 'o', 'c', '_', 'i', 'd', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertThatThrownBy(() -> parser.parse(bad)).hasFieldOrPropertyWithValue("code", "invalid_utf8");
    }

    @Test
    void tombstoneIsRejected() {
        assertThatThrownBy(() -> parser.parse(null)).hasFieldOrPropertyWithValue("code", "empty_record");
    }

    @Test
    void deeplyNestedJsonIsRejectedWithoutStackOverflow() {
        String deep = "{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThatThrownBy(() -> parse(deep)).hasFieldOrPropertyWithValue("code", "invalid_json");
    }
}
