package dev.embedstream.jobs.operators;

import dev.embedstream.common.Hashing;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.DocumentEvent;
import dev.embedstream.common.model.Op;
import dev.embedstream.common.validation.DocumentLimits;
import dev.embedstream.common.validation.DocumentParser;
import dev.embedstream.common.validation.InvalidInputException;
import dev.embedstream.jobs.types.DocumentChange;
import dev.embedstream.jobs.types.KafkaRecord;
import dev.embedstream.jobs.types.Origin;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;

/**
 * Parses and validates document events; anything that breaks the contract goes to the DLQ. A
 * tombstone (null value) deletes the document its key names.
 */
public class ParseDocuments extends DeadLetteringFunction<KafkaRecord, DocumentChange> {

    private final DocumentLimits limits;
    private transient DocumentParser parser;
    private transient Counter accepted;
    private transient Counter rejected;

    public ParseDocuments(DocumentLimits limits, DeadLetters deadLetters) {
        super(deadLetters);
        this.limits = limits;
    }

    @Override
    protected void open(MetricGroup group) {
        parser = new DocumentParser(limits);
        accepted = group.counter("documentsAccepted");
        rejected = group.counter("documentsRejected");
    }

    @Override
    public void processElement(KafkaRecord r, Context ctx, Collector<DocumentChange> out) {
        try {
            DocumentEvent e = r.value() == null ? parser.parseTombstone(r.key()) : parser.parse(r.value());
            out.collect(change(e, new Origin(r.topic(), r.partition(), r.offset())));
            accepted.inc();
        } catch (InvalidInputException e) {
            reject(r, ctx, e.code(), e.getMessage());
        } catch (RuntimeException e) {
            // Input must never fail the job: an unforeseen parser failure is a dead letter too.
            reject(r, ctx, "internal_error", "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    static DocumentChange change(DocumentEvent e, Origin origin) {
        if (e.op() == Op.DELETE) {
            return new DocumentChange(e.docId(), Op.DELETE, e.tenant(), null, null, null, null, origin);
        }
        String metadata = Json.write(e.metadata());
        String textHash = Hashing.sha256Hex(e.text());
        // Text and metadata both go to Milvus, so a change of either is a change of the document.
        String digest = Hashing.sha256Hex(textHash + "\n" + metadata);
        return new DocumentChange(e.docId(), Op.UPSERT, e.tenant(), e.text(), metadata, textHash, digest, origin);
    }

    private void reject(KafkaRecord r, Context ctx, String code, String message) {
        rejected.inc();
        deadLetter(ctx, code, deadLetters.of(r, "parse", code, message, System.currentTimeMillis()));
    }
}
