package dev.embedstream.jobs;

import dev.embedstream.common.json.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;

/**
 * What a failing assertion about a running job should say, so that a failure on a CI machine (where
 * only the assertion message comes back) tells why: the job's status, the cause it failed with, and
 * where its task threads are when it still runs but makes no progress.
 */
final class JobDiagnosis {

    /** Remote calls that timed out or found their server unreachable (gRPC to Milvus, Kafka, Redis). */
    private static final Pattern INFRASTRUCTURE = Pattern.compile(
            "DEADLINE_EXCEEDED|UNAVAILABLE|java\\.util\\.concurrent\\.TimeoutException|org\\.apache\\.kafka\\.common\\.errors\\.TimeoutException");

    private JobDiagnosis() {}

    /** Fails at once, with the diagnosis, when the job is no longer running. */
    static void requireRunning(JobClient job) {
        JobStatus status = status(job);
        if (status != null && status.isGloballyTerminalState()) {
            throw new AssertionError("the job stopped: " + of(job));
        }
    }

    /**
     * The failures in the job's exception history (REST API) that were not a remote call timing
     * out or a server being unreachable: what a record could have caused. A restart is for those
     * infrastructure failures only.
     */
    static List<String> recordFailures(URI rest, JobClient job) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        rest.resolve("/jobs/" + job.getJobID() + "/exceptions")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /jobs/" + job.getJobID() + "/exceptions: " + r.statusCode() + " " + r.body());
        }
        List<String> failures = new ArrayList<>();
        Json.parse(r.body()).path("exceptionHistory").path("entries").forEach(e -> {
            String trace = e.path("stacktrace").asText();
            if (!INFRASTRUCTURE.matcher(trace).find()) {
                failures.add(e.path("exceptionName").asText() + ": " + trace.lines().limit(12).collect(Collectors.joining("\n")));
            }
        });
        return failures;
    }

    static String of(JobClient job) {
        StringBuilder s = new StringBuilder("job ").append(job.getJobID()).append(" is ").append(status(job));
        try {
            job.getJobExecutionResult().get(2, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            s.append("; it failed with:");
            for (Throwable t = e; t != null; t = t.getCause()) {
                s.append("\n  ").append(t.getClass().getName()).append(": ").append(t.getMessage());
            }
            Throwable root = e;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            s.append(Arrays.stream(root.getStackTrace()).limit(30).map(f -> "\n    at " + f).collect(Collectors.joining()));
        } catch (Exception stillRunning) {
            s.append("; task threads:");
            for (Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
                String name = t.getKey().getName();
                if (name.matches(".*\\(\\d+/\\d+\\).*")) {
                    s.append("\n  ").append(name).append(" ").append(t.getKey().getState()).append(Arrays.stream(t.getValue())
                            .limit(8).map(f -> "\n    at " + f).collect(Collectors.joining()));
                }
            }
        }
        return s.toString();
    }

    private static JobStatus status(JobClient job) {
        try {
            return job.getJobStatus().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            return null;
        }
    }
}
