package dev.embedstream.jobs.metrics;

import java.util.Properties;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.util.PortRange;

/**
 * Creates a {@link LoopbackPrometheusReporter}: Flink's Prometheus reporter with a bind address.
 * Configured like Flink's own reporter plus a host:
 *
 * <pre>
 * metrics.reporter.prom.factory.class: dev.embedstream.jobs.metrics.LoopbackPrometheusReporterFactory
 * metrics.reporter.prom.host: 127.0.0.1     # default 127.0.0.1; 0.0.0.0 serves every interface
 * metrics.reporter.prom.port: 9249          # a port or a range (9249-9259), as Flink's
 * </pre>
 *
 * <p>Found by Flink through {@code META-INF/services}, so the class must be on the cluster's
 * class path together with flink-metrics-prometheus (LocalRunner, or a cluster with the job jar
 * and that reporter both in lib/; not a reporter under plugins/, whose classes lib/ cannot see).
 */
public final class LoopbackPrometheusReporterFactory implements MetricReporterFactory {

    /** Reporter option: the address to serve on. */
    public static final String HOST = "host";
    /** Reporter option: the port or port range to serve on. */
    public static final String PORT = "port";
    /** Loopback: the metrics are for this machine unless a person decides otherwise. */
    public static final String DEFAULT_HOST = "127.0.0.1";
    /** Flink's own default port of the Prometheus reporter. */
    public static final String DEFAULT_PORT = "9249";

    @Override
    public MetricReporter createMetricReporter(Properties properties) {
        String host = option(properties, HOST, DEFAULT_HOST);
        String port = option(properties, PORT, DEFAULT_PORT);
        if (host.isEmpty()) {
            throw new IllegalArgumentException("metrics reporter option '" + HOST + "' must not be empty");
        }
        return new LoopbackPrometheusReporter(host, new PortRange(port));
    }

    /** Flink copies reporter options into the Properties as objects: an int port is an Integer. */
    private static String option(Properties properties, String key, String defaultValue) {
        Object value = properties.get(key);
        return value == null ? defaultValue : value.toString().trim();
    }
}
