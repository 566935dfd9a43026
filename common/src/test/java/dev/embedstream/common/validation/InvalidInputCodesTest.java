package dev.embedstream.common.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The contract's error codes (docs/contract.md): every way a document or a query can break the
 * contract, and the code its dead letter (and, for a query, its error response) carries.
 */
class InvalidInputCodesTest {

    private final DocumentParser documents = new DocumentParser(new DocumentLimits(1024, 1024, 8, 256));
    private final QueryParser queries = new QueryParser(4096, 5);

    private void parse(String kind, String json) throws InvalidInputException {
        byte[] value = json.getBytes(StandardCharsets.UTF_8);
        switch (kind) {
            case "document" -> documents.parse(value);
            case "query" -> queries.parse(null, value);
            default -> throw new IllegalArgumentException("no parser for " + kind);
        }
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @CsvSource(delimiter = '|', value = {
        "document|not json at all|invalid_json",
        "document|{\"doc_id\":\"d\",\"text\":\"t\"} trailing|invalid_json",
        "document|[1,2]|not_an_object",
        "document|\"just a string\"|not_an_object",
        "document|{\"text\":\"t\"}|missing_field",
        "document|{\"doc_id\":7,\"text\":\"t\"}|wrong_type",
        "document|{\"doc_id\":\"\",\"text\":\"t\"}|invalid_doc_id",
        "document|{\"doc_id\":\"d\"}|missing_field",
        "document|{\"doc_id\":\"d\",\"text\":5}|wrong_type",
        "document|{\"doc_id\":\"d\",\"text\":\"   \"}|empty_text",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"op\":\"merge\"}|unknown_op",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"tenant\":\"a b\"}|invalid_tenant",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":[1]}|invalid_metadata",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":{\"b\":1}}}|invalid_metadata",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":null}}|invalid_metadata",
        "document|{\"doc_id\":\"d\",\"text\":\"t\",\"metadata\":{\"bad key\":1}}|invalid_metadata",
        "document|{\"doc_id\":\"d\",\"doc_id\":\"e\",\"text\":\"t\"}|invalid_json",
        "query|{\"request_id\":\"q\"}|missing_field",
        "query|{\"request_id\":\"q\",\"text\":\"\"}|empty_text",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":0}|invalid_top_k",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":101}|invalid_top_k",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":2.5}|invalid_top_k",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":\"3\"}|invalid_top_k",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"filter\":\"lang == 'en'\"}|invalid_filter",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":{\"b\":1}}}|invalid_filter",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":[]}}|invalid_filter",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":[[1]]}}|invalid_filter",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a) or (1==1\":1}}|invalid_filter",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"deadline_ms\":\"soon\"}|invalid_deadline_ms",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"reply_partition\":-1}|invalid_reply_partition",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"semantic\"}|invalid_mode",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"DENSE\"}|invalid_mode",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":1}|invalid_mode",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"fusion\":{\"method\":\"rrf\"}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"dense\",\"fusion\":{\"method\":\"rrf\"}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":\"rrf\"}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"max\"}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"rrf\",\"k\":0}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"rrf\",\"k\":60,\"dense\":1}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"weighted\",\"dense\":0.7}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"weighted\",\"dense\":1.5,\"keyword\":0}}|invalid_fusion",
        "query|{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"weighted\",\"dense\":0,\"keyword\":0}}|invalid_fusion",
    })
    void badInputIsRejectedWithItsCode(String kind, String json, String code) {
        InvalidInputException e = catchThrowableOfType(InvalidInputException.class, () -> parse(kind, json));
        assertThat(e).as("refused as invalid").isNotNull();
        assertThat(e.code()).isEqualTo(code);
        assertThat(e.getMessage()).isNotBlank();
        if (kind.equals("query")) {
            // Every bad query above names request_id "q": its error response must be able to too.
            assertThat(e.requestId()).isEqualTo("q");
        }
    }
}
