package dev.embedstream.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.MilvusSettings;
import dev.embedstream.common.milvus.MilvusStore;
import dev.embedstream.common.testing.TestServers;
import dev.embedstream.jobs.io.KafkaIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** One run of the whole job at parallelism 2 against the test servers, on its own topics and collection. */
final class TestJob {

    final String documents;
    final String queries;
    final String responses;
    final String deadLetters;
    final String collection;
    private final String group;

    TestJob(String name) {
        String run = name + "-" + UUID.randomUUID().toString().substring(0, 8);
        documents = run + "-docs";
        queries = run + "-queries";
        responses = run + "-responses";
        deadLetters = run + "-dlq";
        collection = run.replace('-', '_');
        group = run;
    }

    /** The job's topics as every deployment has them: the documents topic compacted (DESIGN section 2). */
    void createTopics(KafkaTestSupport kafka) throws Exception {
        kafka.createTopics(2, LocalRunner.DOCUMENTS_TOPIC_CONFIGS, documents);
        kafka.createTopics(2, queries, responses, deadLetters);
    }

    MilvusStore milvus() {
        return new MilvusStore(new MilvusSettings(TestServers.milvusUri(), null, collection, 10_000, 10_000));
    }

    /** Starts the job; {@code extraArgs} are more {@code --key value} options. */
    JobClient start(String... extraArgs) throws Exception {
        return startAs(group, extraArgs);
    }

    /** Starts the job under the Flink job name {@code jobName} (what metrics carry as job_name). */
    JobClient startAs(String jobName, String... extraArgs) throws Exception {
        return startInGroup(jobName, group, extraArgs);
    }

    /** Starts a job on these topics and alias with its own consumer group (a migration's backfill job). */
    JobClient startInGroup(String jobName, String groupId, String... extraArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of(
                "--kafka.bootstrap-servers", TestServers.kafkaBootstrap(), "--kafka.group-id", groupId,
                "--topic.documents", documents, "--topic.queries", queries,
                "--topic.responses", responses, "--topic.dlq", deadLetters,
                "--milvus.uri", TestServers.milvusUri(), "--milvus.collection", collection,
                "--model.cache-dir", TestServers.modelCache().toString()));
        args.addAll(List.of(extraArgs));
        Configuration conf = JobConfig.fromArgs(args.toArray(String[]::new));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        Pipeline.define(env, KafkaIO.sources(conf), KafkaIO.sinks(conf), JobSettings.from(conf));
        return env.executeAsync(jobName);
    }

    static List<JsonNode> corpus() throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("..", "scripts", "sample", "corpus.jsonl"))) {
            docs.add(Json.mapper().readTree(line));
        }
        return docs;
    }

    /** Every chunk id the documents must have in Milvus, from the job's own chunker settings. */
    static Set<String> expectedChunkIds(List<JsonNode> docs) {
        Set<String> expected = new HashSet<>();
        try (TextChunker chunker = new TextChunker(TestServers.defaultModel(), 256, 32)) {
            for (JsonNode d : docs) {
                int n = chunker.chunk(d.get("text").asText()).size();
                for (int i = 0; i < n; i++) {
                    expected.add(ChunkRow.chunkId(d.path("tenant").asText("default"), d.get("doc_id").asText(), i));
                }
            }
        }
        return expected;
    }

    /** Rows in the collection; 0 before it exists, and it is (re)loaded when a restarted Milvus has not. */
    static long count(MilvusStore milvus) {
        try {
            return milvus.count("chunk_index >= 0");
        } catch (RuntimeException e) {
            try {
                milvus.openIfExists();
            } catch (RuntimeException down) {
                // Milvus is down
            }
            return 0;
        }
    }

    /** Polls until the condition holds; a condition that throws (no collection yet) counts as false. */
    static void awaitTrue(BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // e.g. the collection appears with the first write
            }
            Thread.sleep(250);
        }
        throw new AssertionError("timed out after " + timeout);
    }
}
