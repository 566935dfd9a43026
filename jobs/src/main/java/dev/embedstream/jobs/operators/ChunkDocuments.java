package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.settings.LimitSettings;
import dev.embedstream.jobs.settings.ModelSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.DocumentChange;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;

/**
 * Splits each upserted document into overlapping token windows with the model's tokenizer; a
 * delete passes through as one task so it stays ordered with the document's upserts. A document
 * that would make more than {@code chunk.max-per-document} chunks is a dead letter
 * {@code too_many_chunks}: the cap bounds the model work one record puts in front of a
 * checkpoint barrier.
 */
public class ChunkDocuments extends DeadLetteringFunction<DocumentChange, ChunkTask> {

    private final ModelSettings model;
    private transient TextChunker chunker;
    private transient Counter chunks;

    public ChunkDocuments(ModelSettings model, LimitSettings limits) {
        super(limits.deadLetters());
        this.model = model;
    }

    @Override
    protected void open(MetricGroup group) {
        chunker = new TextChunker(model.spec(), model.chunkMaxTokens(), model.chunkOverlapTokens());
        chunks = group.counter("chunksCreated");
    }

    @Override
    public void processElement(DocumentChange doc, Context ctx, Collector<ChunkTask> out) {
        if (doc.op() == Op.DELETE) {
            out.collect(ChunkTask.delete(doc.docId(), doc.tenant(), doc.origin()));
            return;
        }
        List<TextChunker.Chunk> parts;
        try {
            parts = chunker.chunk(doc.text());
        } catch (RuntimeException e) {
            // The tokenizer is native code fed by producers: a text it cannot take is this
            // document's problem, never a reason to restart the job.
            reject(doc, ctx, "internal_error", "the tokenizer failed on this text: " + e);
            return;
        }
        if (parts.size() > model.chunkMaxPerDocument()) {
            reject(doc, ctx, "too_many_chunks", "document makes " + parts.size() + " chunks of "
                    + model.chunkMaxTokens() + " tokens; the limit (chunk.max-per-document) is "
                    + model.chunkMaxPerDocument() + ": split it into smaller documents");
            return;
        }
        for (int i = 0; i < parts.size(); i++) {
            TextChunker.Chunk c = parts.get(i);
            out.collect(new ChunkTask(doc.docId(), Op.UPSERT, doc.tenant(), i, parts.size(), c.text(), c.tokens(),
                    doc.contentHash(), doc.metadataJson(), null, doc.origin()));
        }
        chunks.inc(parts.size());
    }

    private void reject(DocumentChange doc, Context ctx, String code, String message) {
        deadLetter(ctx, code, deadLetters.of(doc.origin(), doc.identity().getBytes(StandardCharsets.UTF_8),
                "chunk", code, message, DeadLetters.documentPayload(doc.tenant(), doc.docId(), doc.metadataJson(),
                        Map.of("text", doc.text())), System.currentTimeMillis()));
    }

    @Override
    public void close() {
        if (chunker != null) {
            chunker.close();
        }
    }
}
