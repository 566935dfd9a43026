package dev.embedstream.jobs;

import dev.embedstream.jobs.operators.AdmitQueries;
import dev.embedstream.jobs.operators.AnswerCachedQueries;
import dev.embedstream.jobs.operators.ChunkDocuments;
import dev.embedstream.jobs.operators.DeadLetters;
import dev.embedstream.jobs.operators.DedupDocuments;
import dev.embedstream.jobs.operators.DedupQueries;
import dev.embedstream.jobs.operators.EmbedDocuments;
import dev.embedstream.jobs.operators.EmbedQueries;
import dev.embedstream.jobs.operators.EmbedderFactory;
import dev.embedstream.jobs.operators.MilvusSink;
import dev.embedstream.jobs.operators.MilvusSinkClient;
import dev.embedstream.jobs.operators.ParseDocuments;
import dev.embedstream.jobs.operators.ParseQueries;
import dev.embedstream.jobs.operators.Replies;
import dev.embedstream.jobs.operators.ReplyCache;
import dev.embedstream.jobs.operators.SearchMilvus;
import dev.embedstream.jobs.operators.ShedQueries;
import dev.embedstream.jobs.settings.Role;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.jobs.types.ChunkTask;
import dev.embedstream.jobs.types.DeadLetterRecord;
import dev.embedstream.jobs.types.DocumentChange;
import dev.embedstream.jobs.types.QueryTask;
import dev.embedstream.jobs.types.Reply;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job graph (DESIGN section 4). Every operator has a stable uid so state and savepoints map
 * across versions.
 *
 * <pre>
 * documents -> parse -> keyBy tenant:doc_id -> dedup -> chunk -> embed-documents -> milvus-upsert
 * queries   -> parse (bad: DLQ + error; late: expired) -> admit (over quota: rate_limited; past its
 *              latency budget: overloaded) -> answer-cached (L1 hit: -> responses, in this task)
 *              -> shed (deadline before the slow path's recent latency: overloaded)
 *              -> keyBy tenant:request_id -> dedup (repeats ─┐,
 *              conflicts: error) -> embed-queries -> search-milvus (adaptive concurrency; expected wait
 *              past the deadline: overloaded) -> keyBy tenant:request_id
 *              -> reply-cache (cut to response.max-bytes) <──────────────────────────────────────┘ -> responses
 * </pre>
 *
 * <p>The job writes into the collection of its model's vector space behind the alias
 * {@code milvus.collection} (the space is computed here, at submission, by opening the model once);
 * queries search whatever collection the alias serves, embedded by that collection's model. With
 * {@code job.role=backfill} (a model migration's second job) there is no query path: the
 * documents topic, replayed from the earliest offset, fills the new model's collection, and the
 * alias is left alone until {@code embedstream migrate --swap}.
 */
public final class Pipeline {

    private Pipeline() {}

    public static void define(
            StreamExecutionEnvironment env, PipelineSources sources, PipelineSinks sinks, JobSettings settings) {
        define(env, sources, sinks, settings, EmbedderFactory.onnx(settings.model()), MilvusSinkClient::milvus);
    }

    /** The job with another model and Milvus writer: PipelineTest runs the whole graph without servers. */
    static void define(StreamExecutionEnvironment env, PipelineSources sources, PipelineSinks sinks,
            JobSettings settings, EmbedderFactory embedder, MilvusSinkClient.Factory milvusWriter) {
        // Explicit on every operator: keyed state is split into this many key groups, so a
        // savepoint restores into any parallelism up to it, and changing it later breaks restores.
        int maxParallelism = settings.state().maxParallelism();
        VectorSpace space = embedder.space(settings.model());
        boolean serving = settings.role() == Role.SERVE;
        SingleOutputStreamOperator<DocumentChange> documents = env
                .fromSource(sources.documents(), WatermarkStrategy.noWatermarks(), "documents")
                .uid("source-documents").setMaxParallelism(maxParallelism)
                .process(new ParseDocuments(settings.limits().documents(), settings.limits().deadLetters()))
                .name("parse-documents").uid("parse-documents").setMaxParallelism(maxParallelism);

        SingleOutputStreamOperator<ChunkTask> chunks = documents
                .keyBy(DocumentChange::identity)
                .process(new DedupDocuments(settings.state().dedupTtlMs()))
                .name("dedup-documents").uid("dedup-documents").setMaxParallelism(maxParallelism)
                .process(new ChunkDocuments(settings.model(), settings.limits()))
                .name("chunk-documents").uid("chunk-documents").setMaxParallelism(maxParallelism);

        SingleOutputStreamOperator<ChunkTask> embedded = chunks
                .transform("embed-documents", TypeInformation.of(ChunkTask.class), new EmbedDocuments(settings.model(), settings.batch(), settings.quota(), settings.cache(), embedder))
                .uid("embed-documents").setMaxParallelism(maxParallelism);
        embedded.sinkTo(MilvusSink.builder()
                        .withOptions(settings.milvus(), settings.milvusWrite(), settings.cache(), settings.kafka(),
                                settings.limits())
                        .withVectorSpace(space, serving)
                        .setClientFactory(milvusWriter).build())
                .name("milvus-upsert").uid("milvus-upsert").setMaxParallelism(maxParallelism);

        DataStream<DeadLetterRecord> documentDeadLetters =
                documents.getSideOutput(DeadLetters.TAG).union(chunks.getSideOutput(DeadLetters.TAG));
        if (!serving) {
            documentDeadLetters.sinkTo(sinks.deadLetters()).name("dead-letters").uid("sink-dead-letters")
                    .setMaxParallelism(maxParallelism);
            return;
        }

        SingleOutputStreamOperator<QueryTask> queries = env
                .fromSource(sources.queries(), WatermarkStrategy.noWatermarks(), "queries")
                .uid("source-queries").setMaxParallelism(maxParallelism)
                .process(new ParseQueries(settings.limits().maxTextBytes(), settings.query().defaultTopK(), settings.query().defaultMode(),
                        settings.limits().deadLetters()))
                .name("parse-queries").uid("parse-queries").setMaxParallelism(maxParallelism);

        // Quotas and the latency budget are checked where queries enter, chained to the parser: a
        // query refused here costs no exchange, no state and no embedding.
        SingleOutputStreamOperator<QueryTask> admitted = queries
                .process(new AdmitQueries(settings.quota(), settings.query().maxLatencyMs()))
                .name("admit-queries").uid("admit-queries").setMaxParallelism(maxParallelism);

        // Cache hits are answered in the source's task, to a response sink chained to it.
        SingleOutputStreamOperator<QueryTask> asked = admitted
                .process(new AnswerCachedQueries(settings.query().fastPath(), settings.cache(), settings.milvus(), space,
                        settings.query().aliasRefreshMs(), embedder, settings.state().queryDedupTtlMs(),
                        settings.query().fastPathRememberedBytes(), Math.toIntExact(settings.limits().responseMaxBytes())))
                .name("answer-cached").uid("answer-cached").setMaxParallelism(maxParallelism);
        asked.getSideOutput(AnswerCachedQueries.ANSWERED).sinkTo(sinks.responses())
                .name("fast-responses").uid("sink-fast-responses").setMaxParallelism(maxParallelism);

        // Misses whose deadline the slow path would miss at its recent pace are refused here, in the
        // source's task, rather than left to age in the queue.
        SingleOutputStreamOperator<QueryTask> slow = asked
                .process(new ShedQueries(settings.quota(), settings.query().maxLatencyMs()))
                .name("shed-queries").uid("shed-queries").setMaxParallelism(maxParallelism);

        SingleOutputStreamOperator<QueryTask> firstAsks = slow
                .keyBy(QueryTask::key)
                .process(new DedupQueries(settings.state().queryDedupTtlMs()))
                .name("dedup-queries").uid("dedup-queries").setMaxParallelism(maxParallelism);

        // Queries embed in their own task: a document backlog, or Milvus writes stalled by an
        // outage, must never hold a query back.
        SingleOutputStreamOperator<QueryTask> embeddedQueries = firstAsks
                .transform("embed-queries", TypeInformation.of(QueryTask.class), new EmbedQueries(settings.model(), settings.batch(), settings.cache(), settings.milvus(), space,
                        settings.query().aliasRefreshMs(), embedder))
                .uid("embed-queries").setMaxParallelism(maxParallelism)
                .disableChaining();

        DataStream<Reply> answers = AsyncDataStream
                .unorderedWait(embeddedQueries, new SearchMilvus(settings.milvus(), settings.query(), settings.cache(), settings.model(), embedder, space),
                        settings.query().searchTimeoutMs(), TimeUnit.MILLISECONDS, settings.query().maxInFlight())
                .name("search-milvus").uid("search-milvus").setMaxParallelism(maxParallelism);

        // Every reply passes the reply cache, which cuts it to the response budget; only answers to
        // first asks are kept there, under the query's (tenant, request id).
        answers.union(queries.getSideOutput(Replies.TAG), admitted.getSideOutput(Replies.TAG), asked.getSideOutput(Replies.TAG),
                        slow.getSideOutput(Replies.TAG),
                        firstAsks.getSideOutput(Replies.TAG),
                        embeddedQueries.getSideOutput(Replies.TAG))
                .keyBy(Reply::key)
                .connect(firstAsks.getSideOutput(DedupQueries.REPEATS).keyBy(QueryTask::key))
                .process(new ReplyCache(settings.state().queryDedupTtlMs(),
                        Math.toIntExact(settings.limits().responseMaxBytes()), Math.toIntExact(settings.limits().replyMaxBytes())))
                .name("reply-cache").uid("reply-cache").setMaxParallelism(maxParallelism)
                .sinkTo(sinks.responses()).name("responses").uid("sink-responses").setMaxParallelism(maxParallelism);

        DataStream<DeadLetterRecord> deadLetters = documentDeadLetters.union(queries.getSideOutput(DeadLetters.TAG));
        deadLetters.sinkTo(sinks.deadLetters()).name("dead-letters").uid("sink-dead-letters").setMaxParallelism(maxParallelism);
    }
}
