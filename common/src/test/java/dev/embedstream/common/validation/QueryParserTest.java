package dev.embedstream.common.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.model.Query;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QueryParserTest {

    private final QueryParser parser = new QueryParser(4096, 5);

    private Query parse(String json) throws InvalidInputException {
        return parser.parse(null, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void validQueryKeepsFilterDeadlineAndReplyPartition() throws Exception {
        Query q = parse("{\"request_id\":\"q-77\",\"text\":\"rotate logs\",\"top_k\":3,\"tenant\":\"t1\","
                + "\"filter\":{\"lang\":\"en\",\"section\":[\"admin\",\"ops\"]},\"deadline_ms\":1767225600000,"
                + "\"reply_partition\":1}");
        assertThat(q.requestId()).isEqualTo("q-77");
        assertThat(q.topK()).isEqualTo(3);
        assertThat(q.tenant()).isEqualTo("t1");
        assertThat(q.filter()).containsEntry("lang", "en").containsEntry("section", List.of("admin", "ops"));
        assertThat(q.deadlineMs()).isEqualTo(1767225600000L);
        assertThat(q.replyPartition()).isEqualTo(1);
    }

    @Test
    void topKDefaultsWhenAbsent() throws Exception {
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\"}").topK()).isEqualTo(5);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "{\"request_id\":\"q\"}|missing_field",
        "{\"request_id\":\"q\",\"text\":\"\"}|empty_text",
        "{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":0}|invalid_top_k",
        "{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":101}|invalid_top_k",
        "{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":2.5}|invalid_top_k",
        "{\"request_id\":\"q\",\"text\":\"x\",\"top_k\":\"3\"}|invalid_top_k",
        "{\"request_id\":\"q\",\"text\":\"x\",\"filter\":\"lang == 'en'\"}|invalid_filter",
        "{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":{\"b\":1}}}|invalid_filter",
        "{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":[]}}|invalid_filter",
        "{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a\":[[1]]}}|invalid_filter",
        "{\"request_id\":\"q\",\"text\":\"x\",\"filter\":{\"a) or (1==1\":1}}|invalid_filter",
        "{\"request_id\":\"q\",\"text\":\"x\",\"deadline_ms\":\"soon\"}|invalid_deadline_ms",
        "{\"request_id\":\"q\",\"text\":\"x\",\"reply_partition\":-1}|invalid_reply_partition",
    })
    void badQueryIsRejectedWithItsCodeAndKeepsItsRequestId(String json, String code) {
        assertThatThrownBy(() -> parse(json))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.code()).isEqualTo(code);
                    assertThat(e.requestId()).isEqualTo("q");
                });
    }

    @Test
    void unreadableQueryTakesItsRequestIdFromTheKafkaKey() {
        assertThatThrownBy(() -> parser.parse("q-9".getBytes(StandardCharsets.UTF_8), "{oops".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> {
                    assertThat(e.code()).isEqualTo("invalid_json");
                    assertThat(e.requestId()).isEqualTo("q-9");
                });
    }

    @Test
    void queryWithoutAnyReadableRequestIdHasNoOneToAnswer() {
        assertThatThrownBy(() -> parse("{\"text\":\"x\"}"))
                .isInstanceOfSatisfying(InvalidInputException.class, e -> assertThat(e.requestId()).isNull());
    }

    @Test
    void aBadQueryNamesItsTenantSoTheErrorResponseCanToo() {
        assertThatThrownBy(() -> parse("{\"request_id\":\"q\",\"tenant\":\"acme\",\"text\":\"t\",\"top_k\":0}"))
                .hasFieldOrPropertyWithValue("code", "invalid_top_k")
                .hasFieldOrPropertyWithValue("requestId", "q")
                .hasFieldOrPropertyWithValue("tenant", "acme");
    }
}
