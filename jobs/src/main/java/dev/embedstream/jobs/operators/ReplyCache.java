package dev.embedstream.jobs.operators;

import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by request_id, in front of the response sink: remembers each answer for the TTL and
 * re-sends it when the same request id is asked again. A repeat whose first answer is still on
 * its way is dropped: that answer serves both, and clients deduplicate by request id. Answers are
 * kept deflated (JSON with hit texts shrinks about 3x): this state holds one answer per request
 * id for {@code dedup.query-ttl}, so it grows with the query rate.
 */
public class ReplyCache extends KeyedCoProcessFunction<String, Reply, QueryTask, Reply> {

    private final long ttlMs;
    /** What is kept of an answer: the request id is the key. */
    public record Stored(int replyPartition, String status, byte[] deflatedJson) {}

    private transient ValueState<Stored> answered;
    private transient Counter resent;

    public ReplyCache(long ttlMs) {
        this.ttlMs = ttlMs;
    }

    @Override
    public void open(OpenContext ctx) {
        answered = getRuntimeContext().getState(TtlState.value("answer", Stored.class, ttlMs));
        resent = getRuntimeContext().getMetricGroup().addGroup("embedstream").counter("repliesResent");
    }

    @Override
    public void processElement1(Reply reply, Context ctx, Collector<Reply> out) throws Exception {
        answered.update(new Stored(reply.replyPartition(), reply.status(), deflate(reply.json())));
        out.collect(reply);
    }

    @Override
    public void processElement2(QueryTask repeat, Context ctx, Collector<Reply> out) throws Exception {
        Stored first = answered.value();
        if (first != null) {
            resent.inc();
            out.collect(new Reply(ctx.getCurrentKey(), first.replyPartition(), first.status(), inflate(first.deflatedJson())));
        }
    }

    static byte[] deflate(String json) {
        Deflater fast = new Deflater(Deflater.BEST_SPEED);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(json.length() / 2 + 16);
        try (DeflaterOutputStream out = new DeflaterOutputStream(bytes, fast)) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory streams do not fail
        } finally {
            fast.end();
        }
        return bytes.toByteArray();
    }

    static String inflate(byte[] deflated) {
        try (InflaterInputStream in = new InflaterInputStream(new ByteArrayInputStream(deflated))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("corrupt stored answer", e);
        }
    }
}
