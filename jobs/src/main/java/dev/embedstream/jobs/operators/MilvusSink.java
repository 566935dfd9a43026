package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.JobSettings;
import dev.embedstream.jobs.types.ChunkTask;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/** Writes embedded chunks and document deletes to the Milvus collection. */
public class MilvusSink implements Sink<ChunkTask> {

    private final JobSettings settings;

    public MilvusSink(JobSettings settings) {
        this.settings = settings;
    }

    @Override
    public SinkWriter<ChunkTask> createWriter(WriterInitContext context) {
        return new MilvusSinkWriter(settings, context);
    }
}
