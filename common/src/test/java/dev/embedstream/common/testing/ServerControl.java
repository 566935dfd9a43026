package dev.embedstream.common.testing;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Stops and restarts the real servers of scripts/test.sh for failure tests, through the same
 * scripts/lib/stack.sh that started them (same port, same data directory).
 */
public final class ServerControl {

    private ServerControl() {}

    private static String env(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            throw new IllegalStateException(name + " is not set: run the tests through scripts/test.sh");
        }
        return v;
    }

    /** Stops Milvus as an operator would (SIGINT: Milvus Lite saves its data) and waits until it is gone. */
    public static void stopMilvus() throws IOException, InterruptedException {
        stop(Path.of(env("EMBEDSTREAM_TEST_MILVUS_DIR"), "milvus.pid"), "-INT");
    }

    public static void startMilvus() throws IOException, InterruptedException {
        int port = URI.create(TestServers.milvusUri()).getPort();
        stack("stack_start_milvus \"$EMBEDSTREAM_TEST_MILVUS_VENV\" \"$EMBEDSTREAM_TEST_MILVUS_DIR\" " + port);
    }

    /** Stops the Kafka broker as an operator would (SIGTERM: controlled shutdown) and waits until it is gone. */
    public static void stopKafka() throws IOException, InterruptedException {
        stop(Path.of(env("EMBEDSTREAM_TEST_KAFKA_DIR"), "kafka.pid"), "-TERM");
    }

    /** Starts the broker again on its port with its data (topics and committed offsets survive). */
    public static void startKafka() throws IOException, InterruptedException {
        int port = Integer.parseInt(TestServers.kafkaBootstrap().substring(TestServers.kafkaBootstrap().lastIndexOf(':') + 1));
        stack("stack_start_kafka \"$EMBEDSTREAM_TEST_KAFKA_HOME\" \"$EMBEDSTREAM_TEST_KAFKA_DIR\" " + port);
    }

    /** Kills Redis outright (SIGKILL, no goodbye to clients) and waits until it is gone. */
    public static void killRedis() throws IOException, InterruptedException {
        stop(Path.of(env("EMBEDSTREAM_TEST_REDIS_DIR"), "redis.pid"), "-KILL");
    }

    /** Starts Redis again on its port; it comes back empty (no persistence). */
    public static void startRedis() throws IOException, InterruptedException {
        int port = URI.create(TestServers.redisUri()).getPort();
        stack("stack_start_redis \"$EMBEDSTREAM_TEST_REDIS_DIR\" " + port);
    }

    private static void stop(Path pidFile, String signal) throws IOException, InterruptedException {
        long pid = Long.parseLong(Files.readString(pidFile).trim());
        new ProcessBuilder("kill", signal, Long.toString(pid)).inheritIO().start().waitFor();
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
    }

    private static void stack(String call) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", ". \"$EMBEDSTREAM_TEST_STACK_LIB\" && " + call)
                .inheritIO().start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("could not run: " + call);
        }
    }
}
