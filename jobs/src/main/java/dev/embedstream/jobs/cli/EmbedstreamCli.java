package dev.embedstream.jobs.cli;

import dev.embedstream.common.Defaults;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code scripts/embedstream}: talk to a running embedstream over Kafka. Defaults point at the
 * local stack; every endpoint is a flag.
 */
@Command(name = "embedstream", mixinStandardHelpOptions = true,
        description = {"Publish documents and queries to embedstream and read its answers; list the Milvus collections"
                + " behind the alias and move the corpus to another model (collections, migrate); score retrieval modes on a"
                + " labelled query set (eval).",
            "Every endpoint defaults to the local stack of scripts/run-local.sh.",
            "Run `scripts/embedstream COMMAND --help` for a command's options."},
        subcommands = {IngestCommand.class, QueryCommand.class, DeleteCommand.class, BenchQueriesCommand.class,
                BenchPlotCommand.class, BenchModelCommand.class, CollectionsCommand.class, MigrateCommand.class, EvalCommand.class})
public final class EmbedstreamCli {

    @Option(names = "--bootstrap", defaultValue = Defaults.KAFKA_BOOTSTRAP, description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String bootstrap;

    @Option(names = "--documents-topic", defaultValue = Defaults.TOPIC_DOCUMENTS, description = "Default: ${DEFAULT-VALUE}.")
    String documentsTopic;

    @Option(names = "--queries-topic", defaultValue = Defaults.TOPIC_QUERIES, description = "Default: ${DEFAULT-VALUE}.")
    String queriesTopic;

    @Option(names = "--responses-topic", defaultValue = Defaults.TOPIC_RESPONSES, description = "Default: ${DEFAULT-VALUE}.")
    String responsesTopic;

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE", description = "Extra Kafka client property (repeatable), e.g. security.protocol=SASL_SSL.")
    Map<String, String> kafkaProperties = new HashMap<>();

    Properties kafkaProps() {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        p.put("bootstrap.servers", bootstrap);
        return p;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new EmbedstreamCli())
                .registerConverter(Duration.class, EmbedstreamCli::parseDuration)
                .setExecutionExceptionHandler(EmbedstreamCli::refusal)
                .execute(args));
    }

    /**
     * A refusal (bad input, a state the command will not act on, an unreachable server) is one
     * line that says why; anything else keeps its stack trace.
     */
    static int refusal(Exception e, CommandLine command, CommandLine.ParseResult parsed) throws Exception {
        if (e instanceof IllegalStateException || e instanceof IllegalArgumentException || e instanceof java.io.IOException) {
            command.getErr().println(command.getCommandName() + ": " + e.getMessage());
            return 1;
        }
        throw e;
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?");

    /** "500ms", "30s", "2m", "1h"; a bare number is seconds. */
    static Duration parseDuration(String text) {
        Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("not a duration: '" + text + "' (use e.g. 500ms, 30s, 2m)");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
