package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.json.Json;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** Publishes one query, waits for its own response by request id, and prints it. */
@Command(name = "query", mixinStandardHelpOptions = true, description = "Ask a query and print its response.")
final class QueryCommand implements Callable<Integer> {

    @ParentCommand
    EmbedstreamCli cli;

    @Parameters(paramLabel = "TEXT", description = "The query text.")
    String text;

    @Option(names = "--top-k", defaultValue = "" + Defaults.TOP_K, description = "Documents to return (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--tenant", defaultValue = Defaults.TENANT, description = "Tenant (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Option(names = "--filter", paramLabel = "JSON", description = "Structured metadata filter, e.g. '{\"kind\":[\"class\",\"function\"]}'.")
    String filter;

    @Option(names = "--mode", paramLabel = "MODE", converter = QueryMode.ModeConverter.class,
            description = "dense, hybrid or keyword (default: none sent, the job's milvus.search.default-mode).")
    String mode;

    @Option(names = "--fusion", paramLabel = "FUSION", converter = QueryMode.FusionConverter.class,
            description = "How --mode hybrid fuses its legs: rrf, rrf:K (reciprocal rank, constant K) or weighted:D,W"
                    + " (dense and keyword weights, each 0..1), e.g. weighted:0.7,0.3 (default: the job's, rrf with k 60).")
    ObjectNode fusion;

    @Option(names = "--timeout", defaultValue = "30s", description = "How long to wait for the response (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--request-id", description = "Request id (default: a random one).")
    String requestId;

    @Option(names = "--raw", description = "Print the response JSON as it came.")
    boolean raw;

    @Override
    public Integer call() throws Exception {
        QueryMode retrieval = new QueryMode(mode, fusion);
        String id = requestId != null ? requestId : "cli-" + UUID.randomUUID();
        ObjectNode q = Json.mapper().createObjectNode();
        q.put("request_id", id).put("text", text).put("top_k", topK).put("tenant", tenant);
        retrieval.applyTo(q);
        if (filter != null) {
            q.set("filter", Json.parse(filter));
        }
        q.put("deadline_ms", System.currentTimeMillis() + timeout.toMillis());
        Optional<String> response;
        try (ResponseReader reader = new ResponseReader(cli.kafkaProps(), cli.responsesTopic);
                DocumentPublisher publisher = new DocumentPublisher(cli.kafkaProps())) {
            publisher.send(cli.queriesTopic, id, q.toString()).get();
            response = reader.await(id, timeout);
        }
        if (response.isEmpty()) {
            System.err.printf("no response for %s within %s%n", id, timeout);
            return 2;
        }
        print(response.get());
        return "ok".equals(Json.parse(response.get()).path("status").asText()) ? 0 : 1;
    }

    private void print(String json) throws Exception {
        if (raw) {
            System.out.println(json);
            return;
        }
        JsonNode r = Json.parse(json);
        System.out.printf("%s  mode=%s  status=%s  took=%sms%n", text, new QueryMode(mode, fusion).label(),
                r.path("status").asText(), r.path("took_ms").asText());
        if (r.has("error")) {
            System.out.printf("  error %s: %s%n", r.get("error").path("code").asText(), r.get("error").path("message").asText());
        }
        int rank = 1;
        for (JsonNode h : r.path("hits")) {
            String snippet = h.path("text").asText().replaceAll("\\s+", " ");
            System.out.printf("  %d. %.3f  %s#%d%s  %s%n", rank++, h.path("score").asDouble(), h.path("doc_id").asText(),
                    h.path("chunk").asInt(), legRanks(h.path("ranks")), snippet.length() > 100 ? snippet.substring(0, 97) + "..." : snippet);
        }
    }

    /** A hybrid hit's rank in each leg, " [dense 1, keyword -]" ("-": that leg did not find it); "" for other modes. */
    static String legRanks(JsonNode ranks) {
        if (!ranks.isObject()) {
            return "";
        }
        return String.format(" [dense %s, keyword %s]", ranks.path("dense").asText("-"), ranks.path("keyword").asText("-"));
    }
}
