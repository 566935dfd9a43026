package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.json.Json;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** Publishes a delete event for one document. */
@Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a document (all its chunks).")
final class DeleteCommand implements Callable<Integer> {

    @ParentCommand
    EmbedstreamCli cli;

    @Parameters(paramLabel = "DOC_ID")
    String docId;

    @Option(names = "--tenant", defaultValue = Defaults.TENANT, description = "Tenant (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Override
    public Integer call() throws Exception {
        ObjectNode event = Json.mapper().createObjectNode().put("doc_id", docId).put("op", "delete").put("tenant", tenant);
        try (DocumentPublisher publisher = new DocumentPublisher(cli.kafkaProps())) {
            publisher.send(cli.documentsTopic, tenant + ":" + docId, event.toString()).get();
        }
        System.out.printf("delete of %s published to %s%n", docId, cli.documentsTopic);
        return 0;
    }
}
