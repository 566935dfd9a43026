package dev.embedstream.jobs.cli;

import java.time.Duration;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The offered load of bench-queries (a picocli mixin): what its {@link LoadShape.Plan} is made of. */
final class LoadOptions {

    @Option(names = "--rate", defaultValue = "20", description = "Queries per second; the base rate of a shape (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = "--shape", defaultValue = "constant", paramLabel = "SHAPE",
            description = "constant, ramp, burst, spike or wave (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--peak", description = "Peak queries per second of a shape (default: 5 x --rate).")
    Double peak;

    @Option(names = "--duration", defaultValue = "60s", description = "How long to send (default: ${DEFAULT-VALUE}).")
    Duration duration;

    @Option(names = "--warmup", defaultValue = "5s", description = "Sent but not measured (default: ${DEFAULT-VALUE}).")
    Duration warmup;

    LoadShape.Plan plan() {
        return new LoadShape.Plan(LoadShape.valueOf(shape.toUpperCase(Locale.ROOT)), rate, peak != null ? peak : 5 * rate,
                warmup.toNanos() / 1e9, duration.toNanos() / 1e9);
    }
}
