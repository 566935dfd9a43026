package dev.embedstream.jobs;

import static dev.embedstream.common.EmbedstreamOptions.KAFKA_BOOTSTRAP;
import static dev.embedstream.common.EmbedstreamOptions.TOPIC_DLQ;
import static dev.embedstream.common.EmbedstreamOptions.TOPIC_DOCUMENTS;
import static dev.embedstream.common.EmbedstreamOptions.TOPIC_QUERIES;
import static dev.embedstream.common.EmbedstreamOptions.TOPIC_RESPONSES;

import dev.embedstream.jobs.io.KafkaIO;
import dev.embedstream.jobs.metrics.LoopbackPrometheusReporterFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The job in an in-process Flink MiniCluster with its web UI and Prometheus reporter, for
 * {@code scripts/run-local.sh}. Takes the job's options plus {@code local.web-port} and
 * {@code local.prometheus-port}. Checkpoints go to files under {@code local.checkpoint-dir}: Flink's
 * default without a checkpoint directory keeps them in JobManager memory, limited to 5 MB, and
 * the query dedup state outgrows that within minutes at a few hundred queries per second (each
 * failed checkpoint would then restart the job).
 *
 * <p>Every socket the MiniCluster listens on is bound to {@link #LOOPBACK}: the web UI and REST
 * API (which can cancel the job and, unless disabled, run uploaded jars), the blob server, the
 * TaskManager's data port and the metrics. Flink's own Prometheus reporter cannot bind a host (it
 * serves on every interface), so the local run uses {@link LoopbackPrometheusReporterFactory}.
 * {@code LocalRunnerListensOnLoopbackOnlyTest} checks the sockets of a running MiniCluster.
 *
 * <p>With {@code local.create-topics} it first creates the job's topics that are missing, for
 * {@code run-local.sh --kafka HOST:PORT}: a broker the script did not start gets no topics from it
 * (its Kafka tools belong to the broker install it skips), and Flink's Kafka source fails on a
 * topic that does not exist, whatever the broker's {@code auto.create.topics.enable}. The documents
 * topic is created compacted (DESIGN section 2): replaying it from the earliest offset yields the
 * current corpus, which a model migration's backfill job relies on.
 *
 * <p>The MiniCluster has room for a second job: a migration's backfill job ({@code job.role
 * backfill}), which {@code embedstream migrate} submits through the REST API ({@code /jars/upload},
 * {@code /jars/:id/run}) while the serving job keeps running. So it gets twice the parallelism in
 * task slots (unless {@code taskmanager.numberOfTaskSlots} is given), jar upload and run stay on
 * ({@code web.submit.enable}, on the loopback-only REST endpoint), and uploaded jars are kept under
 * {@code local.upload-dir} (run-local.sh: its state directory) instead of a temporary directory.
 */
public final class LocalRunner {

    /** The only address the local run listens on. */
    static final String LOOPBACK = "127.0.0.1";

    /** Partitions of a topic the local run creates: one per subtask at its default parallelism 2. */
    static final int TOPIC_PARTITIONS = 2;

    static final ConfigOption<Integer> WEB_PORT = ConfigOptions.key("local.web-port").intType().defaultValue(8081)
            .withDescription("Web UI / REST port of the local MiniCluster.");
    static final ConfigOption<Integer> PROMETHEUS_PORT = ConfigOptions.key("local.prometheus-port").intType()
            .defaultValue(9249).withDescription("Port of the Prometheus reporter of the local MiniCluster.");
    static final ConfigOption<String> CHECKPOINT_DIR = ConfigOptions.key("local.checkpoint-dir").stringType()
            .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "embedstream-checkpoints").toString())
            .withDescription("Directory of the local run's checkpoints.");
    static final ConfigOption<Boolean> CREATE_TOPICS = ConfigOptions.key("local.create-topics").booleanType()
            .defaultValue(false).withDescription("Create the job's missing topics (" + TOPIC_PARTITIONS
                    + " partitions, the broker's default replication factor) before the job starts.");

    static final ConfigOption<String> UPLOAD_DIR = ConfigOptions.key("local.upload-dir").stringType()
            .defaultValue(Path.of(System.getProperty("java.io.tmpdir"), "embedstream-jars").toString())
            .withDescription("Directory of the jars uploaded to the local MiniCluster's REST API (web.upload.dir).");

    /** Jobs the local MiniCluster has task slots for: the serving job and a migration's backfill job. */
    static final int JOBS_AT_ONCE = 2;

    /** How long creating the topics may take before the local run gives up. */
    private static final long CREATE_TOPICS_TIMEOUT_S = 60;

    /** Configs of a documents topic the local run creates: compacted, one record per document key. */
    static final Map<String, String> DOCUMENTS_TOPIC_CONFIGS =
            Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);

    private LocalRunner() {}

    public static void main(String[] args) throws Exception {
        Configuration conf = localConfiguration(args);
        if (conf.get(CREATE_TOPICS)) {
            createMissingTopics(conf);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
        JobSettings settings = JobSettings.from(conf);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), settings);
        env.execute(EmbedstreamJob.jobName(settings));
    }

    /** The job's options from {@code args} plus the MiniCluster's: loopback only, file checkpoints. */
    static Configuration localConfiguration(String[] args) {
        Configuration conf = JobConfig.fromArgs(args);
        // Set, not defaulted: a command line cannot widen what the local run exposes.
        conf.set(RestOptions.BIND_ADDRESS, LOOPBACK);
        conf.set(RestOptions.ADDRESS, LOOPBACK);
        conf.set(RestOptions.PORT, conf.get(WEB_PORT));
        // The blob server binds jobmanager.bind-host (the wildcard when unset), the TaskManager's
        // netty data port binds taskmanager.bind-host.
        conf.set(JobManagerOptions.ADDRESS, LOOPBACK);
        conf.set(JobManagerOptions.BIND_HOST, LOOPBACK);
        conf.set(TaskManagerOptions.HOST, LOOPBACK);
        conf.set(TaskManagerOptions.BIND_HOST, LOOPBACK);
        conf.setString("metrics.reporter.prom.factory.class", LoopbackPrometheusReporterFactory.class.getName());
        conf.setString("metrics.reporter.prom." + LoopbackPrometheusReporterFactory.HOST, LOOPBACK);
        conf.setString("metrics.reporter.prom." + LoopbackPrometheusReporterFactory.PORT,
                String.valueOf(conf.get(PROMETHEUS_PORT)));
        if (!conf.contains(CheckpointingOptions.CHECKPOINTS_DIRECTORY)) {
            conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, Path.of(conf.get(CHECKPOINT_DIR)).toUri().toString());
        }
        if (!conf.containsKey("parallelism.default")) {
            conf.setString("parallelism.default", "2");
        }
        if (!conf.contains(TaskManagerOptions.NUM_TASK_SLOTS)) {
            // Without it the MiniCluster has exactly the slots of the first job: a backfill job
            // submitted beside it would wait for slots until it times out.
            conf.set(TaskManagerOptions.NUM_TASK_SLOTS, JOBS_AT_ONCE * conf.get(CoreOptions.DEFAULT_PARALLELISM));
        }
        // Flink's default, set so that a config file cannot turn it off under `embedstream migrate`;
        // the REST endpoint that offers it is on loopback only (above).
        conf.set(WebOptions.SUBMIT_ENABLE, true);
        if (!conf.contains(CoreOptions.CLASSLOADER_RESOLVE_ORDER)) {
            // The local run's classpath already holds the job jar and its dependencies, and what
            // `embedstream migrate` uploads is that jar: child-first would load a second copy of
            // the Kafka client next to the connector's (a LinkageError when the job is built).
            conf.set(CoreOptions.CLASSLOADER_RESOLVE_ORDER, "parent-first");
        }
        if (!conf.contains(WebOptions.UPLOAD_DIR)) {
            conf.set(WebOptions.UPLOAD_DIR, conf.get(UPLOAD_DIR));
        }
        return conf;
    }

    /**
     * Creates the job's topics that do not exist yet, the documents topic compacted; one that
     * exists, or appears meanwhile, is left as it is (the broker may be someone else's), but a
     * documents topic that is not compacted is reported, as a backfill of it would miss documents
     * that retention deleted. The replication factor is the broker's default, so a cluster that
     * requires more than one replica gets what it asks for.
     */
    static void createMissingTopics(Configuration conf) throws Exception {
        Properties props = KafkaIO.passthrough(conf);
        props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, conf.get(KAFKA_BOOTSTRAP));
        try (Admin admin = Admin.create(props)) {
            var existing = admin.listTopics().names().get(CREATE_TOPICS_TIMEOUT_S, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            String documents = conf.get(TOPIC_DOCUMENTS);
            for (String topic : List.of(documents, conf.get(TOPIC_QUERIES), conf.get(TOPIC_RESPONSES),
                    conf.get(TOPIC_DLQ))) {
                if (!existing.contains(topic) && missing.stream().noneMatch(t -> t.name().equals(topic))) {
                    NewTopic created = new NewTopic(topic, Optional.of(TOPIC_PARTITIONS), Optional.empty());
                    missing.add(topic.equals(documents) ? created.configs(DOCUMENTS_TOPIC_CONFIGS) : created);
                }
            }
            if (existing.contains(documents)) {
                warnUnlessCompacted(admin, documents);
            }
            for (var created : admin.createTopics(missing).values().entrySet()) {
                try {
                    created.getValue().get(CREATE_TOPICS_TIMEOUT_S, TimeUnit.SECONDS);
                    System.err.println("[LocalRunner] created topic " + created.getKey());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    private static void warnUnlessCompacted(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        var policy = admin.describeConfigs(List.of(resource)).all().get(CREATE_TOPICS_TIMEOUT_S, TimeUnit.SECONDS)
                .get(resource).get(TopicConfig.CLEANUP_POLICY_CONFIG);
        if (policy == null || !policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
            System.err.println("[LocalRunner] WARNING: topic " + topic + " has cleanup.policy="
                    + (policy == null ? "?" : policy.value()) + ", not compact: a backfill (model migration) replays only what"
                    + " retention kept. Fix: kafka-configs.sh --alter --entity-type topics --entity-name " + topic
                    + " --add-config cleanup.policy=compact");
        }
    }
}
