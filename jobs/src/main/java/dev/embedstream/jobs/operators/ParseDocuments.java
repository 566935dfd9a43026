package dev.embedstream.jobs.operators;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.validation.DocumentParser;
import dev.embedstream.common.validation.InvalidInputException;
import dev.embedstream.jobs.types.DocumentChange;
import dev.embedstream.jobs.types.KafkaRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** Parses and validates document events; anything that breaks the contract goes to the DLQ. */
public class ParseDocuments extends ProcessFunction<KafkaRecord, DocumentChange> {

    private final int maxTextBytes;
    private transient DocumentParser parser;
    private transient Counter accepted;
    private transient Counter rejected;
    private transient DeadLetters.CodeCounters deadLetters;

    public ParseDocuments(int maxTextBytes) {
        this.maxTextBytes = maxTextBytes;
    }

    @Override
    public void open(OpenContext ctx) {
        parser = new DocumentParser(maxTextBytes);
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        accepted = group.counter("documentsAccepted");
        rejected = group.counter("documentsRejected");
        deadLetters = new DeadLetters.CodeCounters(group);
    }

    @Override
    public void processElement(KafkaRecord r, Context ctx, Collector<DocumentChange> out) {
        try {
            DocumentEvent e = parser.parse(r.value());
            out.collect(new DocumentChange(e.docId(), e.op(), e.tenant(), e.text(), Json.write(e.metadata()),
                    e.text() == null ? null : Hashing.sha256Hex(e.text())));
            accepted.inc();
        } catch (InvalidInputException e) {
            reject(r, ctx, e.code(), e.getMessage());
        } catch (RuntimeException e) {
            // Input must never fail the job: an unforeseen parser failure is a dead letter too.
            reject(r, ctx, "internal_error", "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void reject(KafkaRecord r, Context ctx, String code, String message) {
        rejected.inc();
        deadLetters.inc(code);
        ctx.output(DeadLetters.TAG, DeadLetters.of(r, "parse", code, message, System.currentTimeMillis()));
    }
}
