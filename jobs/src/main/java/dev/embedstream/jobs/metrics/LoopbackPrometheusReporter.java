package dev.embedstream.jobs.metrics;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.util.Iterator;
import org.apache.flink.metrics.prometheus.AbstractPrometheusReporter;
import org.apache.flink.util.PortRange;

/**
 * Flink's Prometheus reporter, served on one address instead of every interface.
 *
 * <p>Flink 2.2's {@code PrometheusReporter} has a single option, {@code port}, and starts its
 * HTTP server on {@code new InetSocketAddress(port)}: the wildcard address, so anyone who can
 * reach the machine can read every metric of the job. This reporter keeps Flink's own translation
 * of metrics into Prometheus collectors ({@link AbstractPrometheusReporter}: the same names,
 * labels and types, so the shipped dashboards and alerts stay valid) and only changes where the
 * registry is served. Created by {@link LoopbackPrometheusReporterFactory}.
 */
public final class LoopbackPrometheusReporter extends AbstractPrometheusReporter {

    private final HTTPServer server;
    private final int port;

    LoopbackPrometheusReporter(String host, PortRange ports) {
        CollectorRegistry registry = registryOf(this);
        Iterator<Integer> candidates = ports.getPortsIterator();
        HTTPServer started = null;
        int bound = -1;
        IOException last = null;
        while (started == null && candidates.hasNext()) {
            int candidate = candidates.next();
            try {
                // Daemon threads: a local run that is killed must not hang on the metrics server.
                started = new HTTPServer(new InetSocketAddress(host, candidate), registry, true);
                bound = candidate;
            } catch (IOException e) {
                last = e;
                log.debug("Could not start the Prometheus HTTP server on {}:{}.", host, candidate, e);
            }
        }
        if (started == null) {
            throw new IllegalStateException(
                    "Could not start the Prometheus HTTP server on " + host + " at any port of " + ports, last);
        }
        server = started;
        port = bound;
        log.info("Started the Prometheus HTTP server on {}:{}.", host, port);
    }

    /** The port the server listens on (the first free one of the configured range). */
    public int port() {
        return port;
    }

    @Override
    public void close() {
        server.stop();
        super.close();
    }

    /**
     * The registry {@link AbstractPrometheusReporter} fills is a package-private field with no
     * accessor; read it once by reflection. A Flink upgrade that renames it fails here, loudly,
     * when the reporter is created (and in LocalRunnerListensOnLoopbackOnlyTest), never silently.
     */
    private static CollectorRegistry registryOf(AbstractPrometheusReporter reporter) {
        try {
            Field field = AbstractPrometheusReporter.class.getDeclaredField("registry");
            field.setAccessible(true);
            return (CollectorRegistry) field.get(reporter);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException("AbstractPrometheusReporter has no readable 'registry' field any more: "
                    + "update LoopbackPrometheusReporter for this Flink version", e);
        }
    }
}
