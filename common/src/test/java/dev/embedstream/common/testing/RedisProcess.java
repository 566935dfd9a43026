package dev.embedstream.common.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away redis-server of a test's own (for settings the shared one lacks: a password, TLS),
 * on a free port of 127.0.0.1, without persistence; stopped on close.
 */
public final class RedisProcess implements AutoCloseable {

    public final int port;
    private final Process process;

    private RedisProcess(int port, Process process) {
        this.port = port;
        this.process = process;
    }

    /**
     * @param tls whether {@code extraArgs} make it listen with TLS (then {@code --port 0} and
     *     {@code --tls-port} are set here)
     */
    public static RedisProcess start(boolean tls, String... extraArgs) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>(List.of("redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"));
        cmd.addAll(tls ? List.of("--port", "0", "--tls-port", Integer.toString(port)) : List.of("--port", Integer.toString(port)));
        cmd.addAll(List.of(extraArgs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        RedisProcess redis = new RedisProcess(port, p);
        long deadline = System.currentTimeMillis() + 10_000;
        while (true) {
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
                return redis;
            } catch (IOException notYet) {
                if (System.currentTimeMillis() > deadline || !p.isAlive()) {
                    redis.close();
                    throw new IllegalStateException("redis-server did not start on " + port + ": " + cmd);
                }
                Thread.sleep(50);
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
