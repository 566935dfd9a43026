package dev.embedstream.common.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.model.Query;
import dev.embedstream.common.model.Retrieval;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

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

    @Test
    void modeAndFusionAreReadAndAbsentMeansTheJobsDefault() throws Exception {
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\"}").retrieval()).isNull();
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"keyword\"}").retrieval()).isEqualTo(Retrieval.KEYWORD);
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\"}").retrieval())
                .isEqualTo(Retrieval.rrf(60));
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\",\"fusion\":{\"method\":\"rrf\",\"k\":10}}")
                .retrieval()).isEqualTo(Retrieval.rrf(10));
        assertThat(parse("{\"request_id\":\"q\",\"text\":\"x\",\"mode\":\"hybrid\","
                + "\"fusion\":{\"method\":\"weighted\",\"dense\":0.7,\"keyword\":0.3}}").retrieval())
                .isEqualTo(Retrieval.weighted(0.7, 0.3));
    }
}
