package dev.embedstream.jobs.cli;

import dev.embedstream.common.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How the bench commands hand out their results (a picocli mixin): pretty JSON on stdout, and with
 * {@code --out} the same JSON in a file, the one that bench-plot and the docs' figures read.
 */
final class JsonReport {

    @Option(names = "--out", description = "Also write the results as JSON to this file.")
    Path out;

    void publish(Map<String, Object> result) throws IOException {
        String json = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(result);
        System.out.println(json);
        if (out != null) {
            Files.writeString(out, json);
        }
    }
}
