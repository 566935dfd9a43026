package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The labelled queries of {@code migrate --eval} and {@code eval}: JSON lines {@code {"text": ...,
 * "relevant": ["doc_id", ...], "tenant"?: ..., "kind"?: ...}} ({@code kind}, a free label such as
 * {@code paraphrase} or {@code name}, groups the figures {@code eval} reports). A line that is not such a query refuses the whole file, naming the line:
 * a gate that silently skipped queries would pass on fewer than it was given.
 */
final class EvalSet {

    /** One query and the documents that answer it; {@code kind} is null when the line has none. */
    record Query(String text, Set<String> relevant, String tenant, String kind) {}

    /** Most queries a file may hold: each is embedded twice and searched twice, one at a time. */
    static final int MAX_QUERIES = 100_000;

    private EvalSet() {}

    static List<Query> read(Path file) throws IOException {
        List<Query> queries = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                if (queries.size() == MAX_QUERIES) {
                    throw new IllegalArgumentException(file + ": more than " + MAX_QUERIES + " queries");
                }
                queries.add(parse(line, file + " line " + number));
            }
        }
        if (queries.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no query");
        }
        return queries;
    }

    static Query parse(String line, String where) {
        JsonNode q;
        try {
            q = Json.parse(line);
        } catch (IOException e) {
            throw new IllegalArgumentException(where + ": not JSON (" + CollectionsCommand.firstLine(e.getMessage()) + ")");
        }
        if (!q.isObject()) {
            throw new IllegalArgumentException(where + ": not a JSON object");
        }
        JsonNode text = q.get("text");
        if (text == null || !text.isTextual() || text.asText().isBlank()) {
            throw new IllegalArgumentException(where + ": \"text\" must be a non-empty string");
        }
        JsonNode relevant = q.get("relevant");
        if (relevant == null || !relevant.isArray() || relevant.isEmpty()) {
            throw new IllegalArgumentException(where + ": \"relevant\" must be a non-empty array of doc_id strings");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode id : relevant) {
            if (!id.isTextual() || id.asText().isEmpty()) {
                throw new IllegalArgumentException(where + ": \"relevant\" holds " + id + ", not a doc_id string");
            }
            ids.add(id.asText());
        }
        JsonNode tenant = q.get("tenant");
        if (tenant != null && !tenant.isNull() && (!tenant.isTextual() || tenant.asText().isEmpty())) {
            throw new IllegalArgumentException(where + ": \"tenant\" must be a non-empty string");
        }
        JsonNode kind = q.get("kind");
        if (kind != null && !kind.isNull() && (!kind.isTextual() || kind.asText().isEmpty())) {
            throw new IllegalArgumentException(where + ": \"kind\" must be a non-empty string");
        }
        return new Query(text.asText(), Set.copyOf(ids),
                tenant == null || tenant.isNull() ? Defaults.TENANT : tenant.asText(),
                kind == null || kind.isNull() ? null : kind.asText());
    }
}
