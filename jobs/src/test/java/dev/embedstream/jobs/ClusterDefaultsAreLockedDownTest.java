package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.client.deployment.StandaloneClusterId;
import org.apache.flink.client.program.rest.RestClusterClient;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The shipped cluster defaults stay locked down: flink-conf/config.yaml (read by Flink's own
 * parser, as a cluster reads it) turns the REST jar upload off, scripts/submit-job.sh explains a
 * refused upload instead of failing obscurely, the job graph route that `flink run` and
 * docker-compose's submitter use still works, and docker-compose publishes only Grafana and the
 * Flink UI, on the host's loopback. The local run's sockets: LocalRunnerListensOnLoopbackOnlyTest.
 */
class ClusterDefaultsAreLockedDownTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Configuration SHIPPED = GlobalConfiguration.loadConfiguration(
            ROOT.resolve("flink-conf").toString());

    /** A MiniCluster with the shipped web.submit.enable, its REST endpoint on loopback. */
    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(() -> {
        Configuration conf = new Configuration();
        conf.set(WebOptions.SUBMIT_ENABLE, SHIPPED.get(WebOptions.SUBMIT_ENABLE));
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        return new MiniClusterResourceConfiguration.Builder().setConfiguration(conf)
                .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build();
    });

    @TempDir
    Path dir;

    @Test
    void shippedClusterConfigurationTurnsTheRestJarUploadOff() {
        assertThat(ROOT.resolve("flink-conf/config.yaml")).exists();
        assertThat(SHIPPED.get(WebOptions.SUBMIT_ENABLE)).as("web.submit.enable in flink-conf/config.yaml").isFalse();
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void submitJobScriptStopsBeforeUploadingAndSaysWhatToDoInstead() throws Exception {
        String rest = restUrl();
        HttpResponse<String> jars = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(rest + "/jars")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(jars.statusCode()).as("GET /jars on a cluster with the shipped configuration").isEqualTo(404);

        Path jar = Files.writeString(dir.resolve("never-uploaded.jar"), "not a jar");
        Path out = dir.resolve("submit-job.out");
        Process submit = new ProcessBuilder("bash", ROOT.resolve("scripts/submit-job.sh").toString(),
                "--rest", rest, "--jar", jar.toString(), "--timeout", "5", "--", "--kafka.bootstrap-servers", "x:1")
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertThat(submit.waitFor(60, TimeUnit.SECONDS)).as("submit-job.sh ends").isTrue();
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(submit.exitValue()).as("exit status; output:\n%s", output).isNotZero();
        assertThat(output).contains("does not accept jar uploads", "web.submit.enable", "flink run")
                .doesNotContain("uploading");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aJobGraphSubmittedLikeFlinkRunStillRunsWithUploadsOff() throws Exception {
        // `flink run` (docker-compose's submit-job service) posts the job graph and its jars to
        // POST /jobs, which web.submit.enable does not remove: the submission path that stays.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromSequence(0, Long.MAX_VALUE).sinkTo(new DiscardingSink<>());
        try (RestClusterClient<StandaloneClusterId> client =
                new RestClusterClient<>(FLINK.getClientConfiguration(), StandaloneClusterId.getInstance())) {
            JobID job = client.submitJob(env.getStreamGraph().getJobGraph()).get(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JobStatus status;
            while ((status = client.getJobStatus(job).get(10, TimeUnit.SECONDS)) != JobStatus.RUNNING
                    && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
            assertThat(status).as("job submitted through POST /jobs").isEqualTo(JobStatus.RUNNING);
            client.cancel(job).get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void composePublishesOnlyGrafanaAndTheFlinkUiOnTheHostLoopback() throws Exception {
        Map<String, Map<String, Object>> services = composeServices();
        Map<String, List<String>> published = new TreeMap<>();
        services.forEach((name, service) -> {
            assertThat(service.get("network_mode")).as("%s network_mode", name).isNotEqualTo("host");
            Object ports = service.get("ports");
            if (ports != null) {
                List<String> hostIps = new ArrayList<>();
                for (Object port : (List<?>) ports) {
                    hostIps.add(hostIp(port));
                }
                published.put(name, hostIps);
            }
        });
        assertThat(published).as("services with published ports, and the host address of each")
                .isEqualTo(Map.of("grafana", List.of("127.0.0.1"), "jobmanager", List.of("127.0.0.1")));
        assertThat(services).as("the internal services are still there").containsKeys(
                "kafka", "redis", "milvus", "etcd", "minio", "prometheus");
        // The REST jar upload is off in the cluster's configuration: the submitter must post the job
        // graph (`flink run`), not upload the jar (scripts/submit-job.sh).
        assertThat((List<Object>) services.get("submit-job").get("command")).startsWith("flink", "run");
    }

    /** The host address of a compose port: short syntax [HOST:]HOST_PORT:PORT or long syntax. */
    private static String hostIp(Object port) {
        if (port instanceof Map<?, ?> longSyntax) {
            return String.valueOf(longSyntax.get("host_ip"));
        }
        String spec = String.valueOf(port);
        String[] parts = spec.split(":");
        // "3000", "3000:3000" (no host: every interface) or "127.0.0.1:3000:3000".
        return parts.length == 3 ? parts[0] : "(every interface: " + spec + ")";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> composeServices() throws Exception {
        String text = Files.readString(ROOT.resolve("docker/docker-compose.yml"), StandardCharsets.UTF_8);
        Map<String, Object> compose = (Map<String, Object>) new Load(LoadSettings.builder().build()).loadFromString(text);
        return (Map<String, Map<String, Object>>) compose.get("services");
    }

    private static String restUrl() {
        Configuration client = FLINK.getClientConfiguration();
        return "http://" + client.get(RestOptions.ADDRESS) + ":" + client.get(RestOptions.PORT);
    }
}
