package dev.embedstream.common.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.embedstream.common.json.Json;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A response never leaves larger than its budget, whatever the hits hold. */
class ResponseBudgetTest {

    private static final int KIB = 1024;
    private static final int BUDGET = 512 * KIB;

    private static String repeat(String unit, int bytes) {
        int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
        return unit.repeat(bytes / unitBytes);
    }

    /** A flat metadata object of about {@code bytes} serialized. */
    private static Map<String, Object> metadata(int bytes, String unit) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lang", "en");
        m.put("year", 2024);
        m.put("body", repeat(unit, bytes - 40));
        return m;
    }

    private static String answer(String requestId, int hits, String text, Map<String, Object> metadata) {
        List<Hit> list = new ArrayList<>();
        for (int i = 0; i < hits; i++) {
            list.add(new Hit("doc-" + i, 0, 1.0 - i / 1000.0, text, metadata));
        }
        return Json.write(Response.ok(requestId, list, "miss", "all-minilm-l6-v2", 12));
    }

    private static long bytes(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length;
    }

    /** Decodes strictly: a cut in the middle of a character would fail here. */
    private static Response strictlyRead(String json) throws Exception {
        byte[] raw = json.getBytes(StandardCharsets.UTF_8);
        StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(raw));
        assertThat(json).doesNotContain("\uFFFD");
        return Json.read(json, Response.class);
    }

    @Test
    void aResponseThatFitsIsSentAsItIs() {
        String json = answer("q", 5, "short text", Map.of("lang", "en"));
        assertThat(ResponseBudget.fit(json, BUDGET)).isSameAs(json);
        assertThat(json).doesNotContain("truncated");
    }

    @Test
    void anOversizedAnswerIsCutUnderTheBudgetAndSaysTruncated() throws Exception {
        String json = answer("q-77", 100, repeat("ünïcode ✓ text ", 60_000), metadata(16 * KIB, "m"));
        assertThat(bytes(json)).isGreaterThan(7_000_000);

        String fitted = ResponseBudget.fit(json, BUDGET);

        assertThat(bytes(fitted)).isLessThanOrEqualTo(BUDGET);
        Response r = strictlyRead(fitted);
        assertThat(r.truncated()).isTrue();
        assertThat(r.requestId()).isEqualTo("q-77");
        assertThat(r.status()).isEqualTo("ok");
        assertThat(r.hits()).as("texts are cut before any hit is dropped").hasSize(100);
        assertThat(r.hits()).allSatisfy(h -> {
            assertThat(h.text()).as("100 x 16 KiB of metadata is over the budget: texts and metadata share it")
                    .hasSizeGreaterThan(1000).hasSizeLessThan(3000);
            assertThat(h.metadata()).as("short values are under the level").containsEntry("lang", "en").containsEntry("year", 2024);
            assertThat(bytes((String) h.metadata().get("body"))).isLessThan(3000);
        });
        assertThat(r.hits().stream().map(Hit::text).distinct()).as("one common cut length").hasSize(1);
        assertThat(bytes(fitted)).as("the budget is used, not wasted").isGreaterThan(BUDGET - 4 * KIB);
        assertThat(ResponseBudget.fit(json, BUDGET)).as("deterministic").isEqualTo(fitted);
    }

    @Test
    void theLargestTextsAreCutFirst() throws Exception {
        List<Hit> hits = List.of(
                new Hit("big", 0, 0.9, repeat("a", 40 * KIB), Map.of()),
                new Hit("small", 0, 0.8, "kept whole", Map.of()),
                new Hit("bigger", 0, 0.7, repeat("b", 60 * KIB), Map.of()));
        String json = Json.write(Response.ok("q", hits, "miss", "m", 1));

        Response r = strictlyRead(ResponseBudget.fit(json, 32 * KIB));

        assertThat(r.hits()).extracting(Hit::docId).containsExactly("big", "small", "bigger");
        assertThat(r.hits().get(1).text()).isEqualTo("kept whole");
        assertThat(r.hits().get(0).text()).hasSameSizeAs(r.hits().get(2).text()).hasSizeLessThan(16 * KIB);
    }

    @Test
    void metadataIsLeftWholeWhenCuttingTextsIsEnough() throws Exception {
        String json = answer("q", 20, repeat("t", 60 * KIB), metadata(8 * KIB, "ж"));

        Response r = strictlyRead(ResponseBudget.fit(json, 256 * KIB));

        assertThat(r.hits()).hasSize(20).allSatisfy(h -> {
            assertThat(h.text()).hasSizeLessThan(60 * KIB).isNotEmpty();
            assertThat(h.metadata()).isEqualTo(Json.read(Json.write(metadata(8 * KIB, "ж")), Map.class));
        });
    }

    /** The worst the pipeline can be handed: every field at or past its limit, escaping at its most costly. */
    @Test
    void anyInputFitsEveryAllowedBudget() throws Exception {
        String escapes = "\"\\\u0001\u001f"; // 2, 2, 6 and 6 bytes of JSON each
        String wide = "😀𝄞"; // 4 bytes per character, surrogate pairs in Java
        String text = repeat(escapes + wide + "é", 65_535);
        Map<String, Object> meta = new LinkedHashMap<>();
        for (int i = 0; i < 200; i++) {
            meta.put("k" + i, repeat(escapes + wide, 80));
        }
        String requestId = repeat("r\"", 512);
        List<Hit> hits = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            hits.add(new Hit(repeat("d\\", 512) + i, i, 0.5, text, meta));
        }
        String huge = Json.write(new Response(requestId, null, "ok", hits, "miss", repeat("model", 2 * KIB), 1L,
                new ErrorInfo("search_failed", repeat(escapes, 2_000_000)), null, null));

        for (int budget : new int[] {ResponseBudget.MIN_BYTES, 16 * KIB, 64 * KIB, BUDGET, ResponseBudget.MAX_BYTES}) {
            String fitted = ResponseBudget.fit(huge, budget);
            assertThat(bytes(fitted)).as("budget %d", budget).isLessThanOrEqualTo(budget);
            Response r = strictlyRead(fitted);
            assertThat(r.truncated()).isTrue();
            assertThat(r.requestId()).as("the client can still match it").isEqualTo(requestId);
            if (r.error() != null) {
                assertThat(bytes(Json.write(r.error().message()))).isLessThanOrEqualTo(ResponseBudget.MAX_ERROR_MESSAGE_BYTES + 2);
            }
        }
        Response smallest = Json.read(ResponseBudget.fit(huge, ResponseBudget.MIN_BYTES), Response.class);
        assertThat(smallest.hits() == null || smallest.hits().isEmpty()).as("hits went from the end").isTrue();
        Response mid = Json.read(ResponseBudget.fit(huge, 64 * KIB), Response.class);
        assertThat(mid.hits()).as("hits dropped from the end keep the best first").isNotEmpty()
                .allSatisfy(h -> assertThat(h.metadata()).isEmpty())
                .first().satisfies(h -> assertThat(h.docId()).endsWith("0"));
    }

    @Test
    void aResponseThatCannotBeCutBecomesASmallError() throws Exception {
        String json = Json.write(Response.ok(repeat("x", 10 * KIB), List.of(), "miss", repeat("m", 10 * KIB), 1));

        String fitted = ResponseBudget.fit(json, ResponseBudget.MIN_BYTES);

        assertThat(bytes(fitted)).isLessThanOrEqualTo(ResponseBudget.MIN_BYTES);
        Response r = strictlyRead(fitted);
        assertThat(r.status()).isEqualTo("error");
        assertThat(r.error().code()).isEqualTo("response_too_large");
        assertThat(r.truncated()).isTrue();
    }

    @Test
    void errorMessagesAreBounded() {
        Response r = Response.error("q", "search_failed", "é".repeat(1_000_000), 1);
        assertThat(r.error().message().getBytes(StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(ResponseBudget.MAX_ERROR_MESSAGE_BYTES).isGreaterThan(ResponseBudget.MAX_ERROR_MESSAGE_BYTES - 2);
    }

    @Test
    void aBudgetBelowTheProvableMinimumIsRefused() {
        assertThatThrownBy(() -> ResponseBudget.fit("{}", 1024)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ResponseBudget.checkBudget(1024 * KIB, "response.max-bytes"))
                .hasMessageContaining("response.max-bytes");
    }

    @Test
    void theWaterLevelCutsOnlyWhatIsOverIt() {
        assertThat(ResponseBudget.level(new long[] {10, 100, 1000}, 310)).isEqualTo(200);
        assertThat(ResponseBudget.level(new long[] {10, 100, 1000}, 5000)).isEqualTo(Long.MAX_VALUE);
        assertThat(ResponseBudget.level(new long[] {10, 100, 1000}, 2)).isEqualTo(0);
    }
}
