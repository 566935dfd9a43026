package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model migration runs a backfill job beside the serving job, and {@code embedstream migrate}
 * submits it to the local run's MiniCluster the way it submits to any session cluster: POST
 * /jars/upload, then POST /jars/:id/run. This starts a MiniCluster configured exactly as
 * {@link LocalRunner} configures it, with a job at the default parallelism as the serving job,
 * uploads a jar over REST and runs it at the same parallelism: both must be RUNNING (so the
 * MiniCluster has the slots and the upload routes) and the jar must land under local.upload-dir.
 */
class LocalRunnerRunsAnUploadedSecondJobTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aJarUploadedOverRestRunsBesideTheServingJob() throws Exception {
        Path uploads = dir.resolve("jars");
        LocalRun local = LocalRun.under(dir, "--local.upload-dir", uploads.toString(),
                // What a config file of the user could say: the local run keeps submission on.
                "--web.submit.enable", "false");
        StreamExecutionEnvironment env = local.environment();
        JobClient serving = EndlessJob.startRunning(env, "serving", LocalRun.WAIT);
        String rest = local.rest();
        try {
            String uploaded = Json.parse(post(rest + "/jars/upload", multipartJar(), "multipart/form-data; boundary=" + BOUNDARY))
                    .path("filename").asText();
            assertThat(uploaded).as("uploaded jar's path").startsWith(uploads.toString());
            String jarId = Path.of(uploaded).getFileName().toString();
            String run = post(rest + "/jars/" + jarId + "/run", ("{\"entryClass\":\"" + SecondLocalJob.class.getName()
                    + "\",\"parallelism\":" + env.getParallelism() + "}").getBytes(StandardCharsets.UTF_8), "application/json");
            String second = Json.parse(run).path("jobid").asText();
            assertThat(second).as("the run's answer: %s", run).isNotEmpty();

            long deadline = System.nanoTime() + LocalRun.WAIT.toNanos();
            long running;
            String overview;
            do {
                Thread.sleep(500);
                overview = get(rest + "/jobs/overview");
                running = 0;
                for (JsonNode job : Json.parse(overview).path("jobs")) {
                    running += job.path("state").asText().equals("RUNNING") ? 1 : 0;
                }
            } while (running < 2 && System.nanoTime() < deadline);
            assertThat(running).as("RUNNING jobs in %s", overview).isEqualTo(2);
        } finally {
            serving.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    private static final String BOUNDARY = "embedstream-test-boundary";

    /** A multipart body with a jar whose manifest names SecondLocalJob (found on the parent classpath). */
    private byte[] multipartJar() throws Exception {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, SecondLocalJob.class.getName());
        Path jar = dir.resolve("second.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out, manifest)) {
            // The manifest is the whole jar.
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\"second.jar\"\r\n"
                + "Content-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return body.toByteArray();
    }

    private static String post(String url, byte[] body, String contentType) throws Exception {
        HttpResponse<String> r = LocalRun.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("POST %s: %s", url, r.body()).isEqualTo(200);
        return r.body();
    }

    private static String get(String url) throws Exception {
        return LocalRun.HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
