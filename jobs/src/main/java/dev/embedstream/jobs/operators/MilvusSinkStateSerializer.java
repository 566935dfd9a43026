package dev.embedstream.jobs.operators;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.flink.connector.base.sink.writer.AsyncSinkWriterStateSerializer;

/**
 * The Milvus sink's writer state: buffered entries not yet written, and tenants whose epoch bump
 * is pending. Strings are length-prefixed UTF-8 (not {@code writeUTF}, which stops at 64 KiB).
 */
public final class MilvusSinkStateSerializer extends AsyncSinkWriterStateSerializer<MilvusSinkEntry> {

    static final int VERSION = 1;

    @Override
    protected void serializeRequestToStream(MilvusSinkEntry e, DataOutputStream out) throws IOException {
        out.writeByte(e.kind().ordinal());
        writeString(out, e.tenant());
        writeString(out, e.docId());
        out.writeInt(e.chunkIndex());
        out.writeInt(e.chunkCount());
        writeString(out, e.text());
        writeString(out, e.contentHash());
        writeString(out, e.metadataJson());
        float[] v = e.vector();
        out.writeInt(v == null ? -1 : v.length);
        if (v != null) {
            for (float f : v) {
                out.writeFloat(f);
            }
        }
        writeString(out, e.originTopic());
        out.writeInt(e.originPartition());
        out.writeLong(e.originOffset());
    }

    @Override
    protected MilvusSinkEntry deserializeRequestFromStream(long requestSize, DataInputStream in) throws IOException {
        int kind = in.readByte();
        MilvusSinkEntry.Kind[] kinds = MilvusSinkEntry.Kind.values();
        if (kind < 0 || kind >= kinds.length) {
            throw new IOException("unknown Milvus sink entry kind " + kind);
        }
        String tenant = readString(in);
        String docId = readString(in);
        int chunkIndex = in.readInt();
        int chunkCount = in.readInt();
        String text = readString(in);
        String contentHash = readString(in);
        String metadataJson = readString(in);
        int dim = in.readInt();
        float[] vector = null;
        if (dim >= 0) {
            vector = new float[dim];
            for (int i = 0; i < dim; i++) {
                vector[i] = in.readFloat();
            }
        }
        return new MilvusSinkEntry(kinds[kind], tenant, docId, chunkIndex, chunkCount, text, contentHash, metadataJson,
                vector, readString(in), in.readInt(), in.readLong());
    }

    @Override
    public int getVersion() {
        return VERSION;
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }

    private static String readString(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) {
            return null;
        }
        byte[] b = new byte[n];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
