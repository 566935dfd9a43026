package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The few calls of Flink's REST API a migration needs: upload a jar, run it, find a job by name
 * and read its state. Every request has a deadline; an answer other than 2xx is an error that
 * carries Flink's own message.
 */
final class FlinkRest {

    /** A job as {@code GET /jobs/overview} lists it. */
    record Job(String id, String name, String state) {}

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;

    FlinkRest(String address, Duration timeout) {
        this.base = URI.create(address.endsWith("/") ? address : address + "/");
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** Every job the cluster knows (running and finished ones it still remembers). */
    List<Job> jobs() throws IOException, InterruptedException {
        JsonNode jobs = get("jobs/overview").path("jobs");
        return java.util.stream.StreamSupport.stream(jobs.spliterator(), false)
                .map(j -> new Job(j.path("jid").asText(), j.path("name").asText(), j.path("state").asText()))
                .toList();
    }

    /** The running job of this name, if any. */
    Optional<Job> running(String name) throws IOException, InterruptedException {
        return jobs().stream().filter(j -> j.name().equals(name) && "RUNNING".equals(j.state())).findFirst();
    }

    /** The newest-listed job of this name in any state, if the cluster still remembers one. */
    Optional<Job> any(String name) throws IOException, InterruptedException {
        List<Job> all = jobs().stream().filter(j -> j.name().equals(name)).toList();
        return all.stream().filter(j -> "RUNNING".equals(j.state())).findFirst()
                .or(() -> all.isEmpty() ? Optional.empty() : Optional.of(all.get(0)));
    }

    /** The job's state (CREATED, RUNNING, FAILING, FAILED, CANCELED, FINISHED, RESTARTING, ...). */
    String state(String jobId) throws IOException, InterruptedException {
        return get("jobs/" + jobId).path("state").asText();
    }

    /** {@code POST /jars/upload} (multipart, field {@code jarfile}); returns the jar id to run. */
    String upload(Path jar) throws IOException, InterruptedException {
        String boundary = "embedstream-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(base.resolve("jars/upload"))
                .timeout(timeout.multipliedBy(6)) // a job jar is tens of MB
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build();
        JsonNode answer = send(request);
        String file = answer.path("filename").asText("");
        if (file.isEmpty()) {
            throw new IOException("Flink accepted the jar upload but named no file: " + answer);
        }
        return Path.of(file).getFileName().toString();
    }

    /** {@code POST /jars/{id}/run} with these program arguments; returns the job id. */
    String run(String jarId, List<String> programArgs) throws IOException, InterruptedException {
        ObjectNode request = Json.mapper().createObjectNode();
        request.set("programArgsList", Json.mapper().valueToTree(programArgs));
        HttpRequest post = HttpRequest.newBuilder(base.resolve("jars/" + jarId + "/run"))
                .timeout(timeout.multipliedBy(6)) // the job's main() runs on the JobManager before it answers
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString())).build();
        return send(post).path("jobid").asText();
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).GET().build());
    }

    private JsonNode send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r;
        try {
            r = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new IOException("no Flink REST API at " + base + " (" + e.getMessage() + "); is the cluster running?"
                    + " (scripts/run-local.sh serves it on http://127.0.0.1:8081; else pass --flink URL)", e);
        }
        if (r.statusCode() / 100 != 2) {
            throw new IOException("Flink " + request.method() + " " + request.uri().getPath() + " answered "
                    + r.statusCode() + ": " + errors(r.body()));
        }
        return Json.parse(r.body());
    }

    /**
     * The first line of an error and its root cause: a failed {@code jars/run} nests the job's
     * own refusal (a vector-space mismatch, a missing model) under several wrappers.
     */
    static String essence(String text) {
        String[] lines = text.split("\n");
        String first = lines[0].trim();
        String cause = null;
        for (String line : lines) {
            if (line.trim().startsWith("Caused by:")) {
                cause = line.trim().substring("Caused by:".length()).trim();
            }
        }
        return cause == null || cause.equals(first) ? first : first + " Caused by: " + cause;
    }

    /** Flink answers {@code {"errors": [...]}}; each is cut to its {@link #essence}. */
    static String errors(String body) {
        try {
            JsonNode errors = Json.parse(body).path("errors");
            if (errors.isArray() && !errors.isEmpty()) {
                StringBuilder sb = new StringBuilder();
                for (JsonNode e : errors) {
                    sb.append(sb.isEmpty() ? "" : "; ").append(essence(e.asText()));
                }
                return sb.toString();
            }
        } catch (Exception ignored) {
            // not JSON: show it as it came, shortened
        }
        return body.length() > 500 ? body.substring(0, 500) + "..." : body;
    }
}
