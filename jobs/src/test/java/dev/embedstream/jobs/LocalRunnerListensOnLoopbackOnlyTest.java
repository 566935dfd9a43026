package dev.embedstream.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/run-local.sh promises that nothing of the local run is reachable from another machine.
 * This runs a job in a MiniCluster configured exactly as {@link LocalRunner} configures it and
 * reads, from /proc, every TCP socket this JVM started listening on meanwhile: each must be bound
 * to a loopback address (a wildcard bind would show as 0.0.0.0 or ::). It also proves that the web
 * UI and the metrics are served there, so the check cannot pass by not starting them.
 */
class LocalRunnerListensOnLoopbackOnlyTest {

    private static final Path PROC_FD = Path.of("/proc/self/fd");
    private static final Pattern SOCKET_LINK = Pattern.compile("socket:\\[(\\d+)]");

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void everySocketOfTheLocalRunListensOnLoopbackOnly() throws Exception {
        assumeThat(Files.isDirectory(PROC_FD)).as("needs Linux /proc to list this JVM's sockets").isTrue();
        LocalRun run = LocalRun.under(dir,
                // A caller asking for the wildcard must not get it: LocalRunner sets these, not defaults them.
                "--rest.bind-address", "0.0.0.0", "--jobmanager.bind-host", "0.0.0.0");
        int webPort = run.webPort();
        int metricsPort = run.metricsPort();
        Set<Long> before = listeningInodes(listeners());

        JobClient job = EndlessJob.startRunning(run.environment(), "loopback-only", LocalRun.WAIT);
        try {
            assertThat(awaitBody("http://127.0.0.1:" + webPort + "/overview", "\"taskmanagers\":1"))
                    .as("the web UI's REST API").contains("\"taskmanagers\":1");
            assertThat(awaitBody("http://127.0.0.1:" + metricsPort + "/metrics", "flink_taskmanager_job_task_"))
                    .as("the job's metrics on the loopback reporter").contains("flink_taskmanager_job_task_");

            List<Listener> opened = new ArrayList<>();
            for (Listener l : listeners()) {
                if (!before.contains(l.inode)) {
                    opened.add(l);
                }
            }
            assertThat(opened).extracting(Listener::port).as("the web UI and the metrics are among the sockets")
                    .contains(webPort, metricsPort);
            assertThat(opened).as("every socket the MiniCluster listens on").allSatisfy(l -> assertThat(
                    l.address.isLoopbackAddress()).as("%s is bound to a loopback address", l).isTrue());
        } finally {
            job.cancel().get(30, TimeUnit.SECONDS);
        }
    }

    /** The first body of url that has expected (the reporter registers task metrics as tasks start). */
    private static String awaitBody(String url, String expected) throws Exception {
        long deadline = System.nanoTime() + LocalRun.WAIT.toNanos();
        String last = "(no answer)";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = LocalRun.HTTP.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                last = r.statusCode() + " " + r.body();
                if (r.statusCode() == 200 && r.body().contains(expected)) {
                    return r.body();
                }
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        return last;
    }

    record Listener(long inode, InetAddress address, int port) {
        @Override
        public String toString() {
            return address.getHostAddress() + ":" + port + " (socket inode " + inode + ")";
        }
    }

    private static Set<Long> listeningInodes(List<Listener> listeners) {
        Set<Long> inodes = new HashSet<>();
        listeners.forEach(l -> inodes.add(l.inode));
        return inodes;
    }

    /** The TCP sockets in LISTEN state that this process holds (IPv4 and IPv6 tables). */
    private static List<Listener> listeners() throws IOException {
        Set<Long> mine = new HashSet<>();
        try (Stream<Path> fds = Files.list(PROC_FD)) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    Matcher m = SOCKET_LINK.matcher(Files.readSymbolicLink(fd).toString());
                    if (m.matches()) {
                        mine.add(Long.parseLong(m.group(1)));
                    }
                } catch (IOException closedMeanwhile) {
                    // A descriptor closed between list and read is not a listener.
                }
            }
        }
        List<Listener> out = new ArrayList<>();
        for (String table : List.of("/proc/self/net/tcp", "/proc/self/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.exists(path)) {
                continue;
            }
            List<String> lines = Files.readAllLines(path);
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                long inode = Long.parseLong(f[9]);
                if (!f[3].equals("0A") || !mine.contains(inode)) { // 0A: TCP_LISTEN
                    continue;
                }
                String[] hostPort = f[1].split(":");
                out.add(new Listener(inode, address(hostPort[0]), Integer.parseInt(hostPort[1], 16)));
            }
        }
        return out;
    }

    /** /proc/net/tcp* print an address as 32-bit words in host (little-endian) byte order. */
    private static InetAddress address(String hex) throws IOException {
        byte[] bytes = new byte[hex.length() / 2];
        for (int word = 0; word < bytes.length / 4; word++) {
            for (int i = 0; i < 4; i++) {
                int at = word * 8 + (3 - i) * 2;
                bytes[word * 4 + i] = (byte) Integer.parseInt(hex.substring(at, at + 2), 16);
            }
        }
        // An IPv4-mapped IPv6 address (::ffff:127.0.0.1, a dual-stack bind) comes back as IPv4.
        return InetAddress.getByAddress(bytes);
    }
}
