package dev.embedstream.jobs.operators;

import dev.embedstream.common.model.ResponseBudget;
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
 * Keyed by {@link Reply#key()} = {@link QueryTask#key()} (tenant and request id), in front of the
 * response sink. Every reply passes here and leaves cut to the response budget
 * ({@code response.max-bytes}, {@link ResponseBudget}), so no answer can be refused by the Kafka
 * producer. The answer to a first ask is remembered for the TTL with the digest of its query and
 * re-sent when the same query is asked again under its request id; a repeat whose first answer is
 * still on its way is dropped: that answer serves both, and clients deduplicate by request id.
 *
 * <p>State is bounded per entry: the answer is kept cut to {@code dedup.reply-max-bytes} of JSON
 * (by the same routine, so a re-sent answer may say {@code truncated}) and deflated, next to its
 * 64-character digest. The state therefore holds at most (distinct request ids within
 * {@code dedup.query-ttl}) x about that budget.
 */
public class ReplyCache extends KeyedCoProcessFunction<String, Reply, QueryTask, Reply> {

    /** What is kept of an answer: the key is the query's identity, the digest what it asked. */
    public record Stored(String digest, String status, byte[] deflatedJson) {}

    private final long ttlMs;
    private final int responseMaxBytes;
    private final int storedMaxBytes;
    private transient ValueState<Stored> answered;
    private transient Counter resent;
    private transient Counter cut;

    /**
     * @param responseMaxBytes the most UTF-8 bytes of JSON a reply leaves with
     * @param storedMaxBytes the most UTF-8 bytes of JSON kept (before deflate) to re-send
     */
    public ReplyCache(long ttlMs, int responseMaxBytes, int storedMaxBytes) {
        this.ttlMs = ttlMs;
        this.responseMaxBytes = ResponseBudget.checkBudget(responseMaxBytes, "response.max-bytes");
        this.storedMaxBytes = ResponseBudget.checkBudget(storedMaxBytes, "dedup.reply-max-bytes");
        if (storedMaxBytes > responseMaxBytes) {
            throw new IllegalArgumentException("dedup.reply-max-bytes must not exceed response.max-bytes");
        }
    }

    @Override
    public void open(OpenContext ctx) {
        // Named anew (was "answer", keyed by request id alone, without a digest).
        answered = getRuntimeContext().getState(TtlState.value("query-answer", Stored.class, ttlMs));
        var group = getRuntimeContext().getMetricGroup().addGroup("embedstream");
        resent = group.counter("repliesResent");
        cut = group.counter("responsesTruncated");
    }

    @Override
    public void processElement1(Reply reply, Context ctx, Collector<Reply> out) throws Exception {
        String json = ResponseBudget.fit(reply.json(), responseMaxBytes);
        if (json != reply.json()) {
            cut.inc();
        }
        if (reply.answersAQuery()) {
            // The latest answer of a first ask wins: after the dedup TTL a new query may reuse the
            // request id, and its answer must replace the old one (the digest keeps them apart).
            String kept = ResponseBudget.fit(json, storedMaxBytes);
            answered.update(new Stored(reply.digest(), reply.status(), deflate(kept)));
        }
        out.collect(reply.withJson(json));
    }

    @Override
    public void processElement2(QueryTask repeat, Context ctx, Collector<Reply> out) throws Exception {
        Stored first = answered.value();
        // A stored answer of another digest belongs to an earlier query under this request id
        // (the dedup state expired first): the repeat's own answer is still on its way.
        if (first != null && first.digest().equals(repeat.digest())) {
            resent.inc();
            // To the partition the repeat asks for: the client that retries is the one listening now.
            out.collect(new Reply(repeat.tenant(), repeat.requestId(), first.digest(), repeat.replyPartition(),
                    first.status(), inflate(first.deflatedJson())));
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
