package dev.embedstream.jobs.operators;

import dev.embedstream.common.filter.FilterCompiler;
import dev.embedstream.common.json.Json;
import dev.embedstream.common.model.Query;
import dev.embedstream.common.model.Response;
import dev.embedstream.common.model.Retrieval;
import dev.embedstream.common.validation.InvalidInputException;
import dev.embedstream.common.validation.QueryParser;
import dev.embedstream.jobs.types.KafkaRecord;
import dev.embedstream.jobs.types.QueryTask;
import java.util.TreeMap;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.util.Collector;

/**
 * Parses and validates queries. A bad query goes to the DLQ and, when it names a request id, gets
 * an {@code error} response; a query past its deadline is answered {@code expired} at once.
 */
public class ParseQueries extends DeadLetteringFunction<KafkaRecord, QueryTask> {

    private final int maxTextBytes;
    private final int defaultTopK;
    private final Retrieval defaultRetrieval;
    private transient QueryParser parser;
    private transient Counter accepted;
    private transient Counter rejected;
    private transient Counter expired;

    /** @param defaultMode the mode of a query that names none ({@code milvus.search.default-mode}) */
    public ParseQueries(int maxTextBytes, int defaultTopK, Retrieval.Mode defaultMode, DeadLetters deadLetters) {
        super(deadLetters);
        this.maxTextBytes = maxTextBytes;
        this.defaultTopK = defaultTopK;
        this.defaultRetrieval = Retrieval.of(defaultMode);
    }

    @Override
    protected void open(MetricGroup group) {
        parser = new QueryParser(maxTextBytes, defaultTopK);
        accepted = group.counter("queriesAccepted");
        rejected = group.counter("queriesRejected");
        expired = group.counter("queriesExpired");
    }

    @Override
    public void processElement(KafkaRecord r, Context ctx, Collector<QueryTask> out) {
        long now = System.currentTimeMillis();
        try {
            Query q = parser.parse(r.key(), r.value());
            FilterCompiler.compile(q.tenant(), q.filter()); // proves the filter compiles before any work
            QueryTask task = new QueryTask(q.requestId(), q.text(), q.topK(), q.tenant(),
                    Json.write(new TreeMap<>(q.filter())), q.deadlineMs() == null ? 0 : q.deadlineMs(),
                    q.replyPartition() == null ? -1 : q.replyPartition(), r.timestamp(), null, null, null, null,
                    (q.retrieval() == null ? defaultRetrieval : q.retrieval()).canonical(), q.retrieval() != null);
            if (task.expiredAt(now)) {
                expired.inc();
                // Not through dedup, so not kept: a retry with a new deadline must get a real answer.
                ctx.output(Replies.TAG, Replies.expiredOnArrival(task, now));
                return;
            }
            accepted.inc();
            out.collect(task);
        } catch (InvalidInputException e) {
            reject(r, ctx, e.code(), e.getMessage(), e.requestId(), e.tenant(), now);
        } catch (RuntimeException e) {
            reject(r, ctx, "internal_error", "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage(), null,
                    null, now);
        }
    }

    private void reject(KafkaRecord r, Context ctx, String code, String message, String requestId, String tenant,
            long now) {
        rejected.inc();
        deadLetter(ctx, code, deadLetters.of(r, "parse", code, message, now));
        if (requestId != null) {
            ctx.output(Replies.TAG, Replies.unkept(Response.error(requestId, code, message, now - r.timestamp()).withTenant(tenant), -1));
        }
    }
}
