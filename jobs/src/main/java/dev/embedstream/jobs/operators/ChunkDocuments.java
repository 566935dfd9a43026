package dev.embedstream.jobs.operators;

import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.model.Op;
import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.DocumentChange;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichFlatMapFunction;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;

/**
 * Splits each upserted document into overlapping token windows with the model's tokenizer; a
 * delete passes through as one task so it stays ordered with the document's upserts.
 */
public class ChunkDocuments extends RichFlatMapFunction<DocumentChange, ChunkTask> {

    private final JobSettings settings;
    private transient TextChunker chunker;
    private transient Counter chunks;

    public ChunkDocuments(JobSettings settings) {
        this.settings = settings;
    }

    @Override
    public void open(OpenContext ctx) {
        chunker = new TextChunker(settings.modelSpec(), settings.chunkMaxTokens(), settings.chunkOverlapTokens());
        chunks = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("chunksCreated");
    }

    @Override
    public void flatMap(DocumentChange doc, Collector<ChunkTask> out) {
        if (doc.op() == Op.DELETE) {
            out.collect(ChunkTask.delete(doc.docId(), doc.tenant()));
            return;
        }
        List<TextChunker.Chunk> parts = chunker.chunk(doc.text());
        for (int i = 0; i < parts.size(); i++) {
            TextChunker.Chunk c = parts.get(i);
            out.collect(new ChunkTask(doc.docId(), Op.UPSERT, doc.tenant(), i, parts.size(), c.text(), c.tokens(),
                    doc.contentHash(), doc.metadataJson(), null));
        }
        chunks.inc(parts.size());
    }

    @Override
    public void close() {
        if (chunker != null) {
            chunker.close();
        }
    }
}
