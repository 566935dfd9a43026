package dev.embedstream.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.Pooling;
import dev.embedstream.common.milvus.ChunkRow;
import dev.embedstream.common.milvus.VectorSpace;
import dev.embedstream.jobs.settings.ModelSettings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class MigrateCommandTest {

    @TempDir
    Path cache;

    private static final VectorSpace OLD = new VectorSpace("all-minilm-l6-v2", "ab".repeat(32), "mean", 384, 256, 200,
            20, VectorSpace.L2, ChunkRow.ID_SCHEME);

    private static MigrateCommand parse(String... args) {
        EmbedstreamCli cli = new EmbedstreamCli();
        CommandLine line = new CommandLine(cli).registerConverter(java.time.Duration.class, EmbedstreamCli::parseDuration);
        var parsed = line.parseArgs(args);
        return (MigrateCommand) parsed.subcommand().commandSpec().userObject();
    }

    @Test
    void theBackfillJobGetsItsRoleModelGroupAndTheStacksEndpoints() {
        MigrateCommand m = parse("--bootstrap", "k:1", "--documents-topic", "docs", "--kafka-property", "security.protocol=SSL",
                "migrate", "--to-model", "bge-small-en-v15", "--milvus", "http://m:2", "--alias", "chunks",
                "--job-arg", "parallelism.default=1");
        VectorSpace next = new VectorSpace("bge-small-en-v15", "cd".repeat(32), "cls", 384, 512, 200, 20, VectorSpace.L2,
                ChunkRow.ID_SCHEME);
        List<String> args = m.backfillArgs("bge-small-en-v15", "embedstream-backfill-" + next.hash(), OLD, next);
        assertThat(String.join(" ", args)).contains(
                "--job.role backfill", "--model.name bge-small-en-v15", "--kafka.group-id embedstream-backfill-" + next.hash(),
                "--checkpoint.interval 2s", "--kafka.bootstrap-servers k:1", "--topic.documents docs",
                "--milvus.uri http://m:2", "--milvus.collection chunks", "--redis.uri " + BackfillJobOptions.LOCAL_REDIS,
                "--model.max-tokens 512", "--chunk.max-tokens 200", "--chunk.overlap-tokens 20",
                "--kafka.properties.security.protocol SSL", "--parallelism.default 1");
        assertThat(args).doesNotContain("--model.pooling");
        assertThat(args.size() % 2).isZero();
    }

    @Test
    void redisNoneLeavesTheBackfillWithoutRedis() {
        MigrateCommand m = parse("migrate", "--to-model", "x", "--redis", "none");
        assertThat(m.backfillArgs("x", "g", OLD, OLD)).doesNotContain("--redis.uri");
    }

    @Test
    void theModesExcludeEachOther() {
        var line = new CommandLine(new EmbedstreamCli());
        line.setErr(new java.io.PrintWriter(java.io.Writer.nullWriter()));
        assertThat(line.execute("migrate", "--to-model", "x", "--rollback")).isEqualTo(2);
        assertThat(line.execute("migrate")).isEqualTo(2);
        assertThat(line.execute("collections", "--drop", "a", "--adopt", "--model", "m")).isEqualTo(2);
        assertThat(line.execute("collections", "--adopt")).isEqualTo(2);
    }

    /** The CLI computes the new model's space without Flink; it must be the very space the job stamps. */
    @Test
    void theCliComputesTheSameVectorSpaceAsTheJob() {
        ModelSettings job = new ModelSettings("all-minilm-l6-v2-q", Pooling.MEAN, 256, cache.toString(), 1, 200, 20, 1000);
        ModelSpec spec = ModelCatalog.resolve("all-minilm-l6-v2-q", Pooling.MEAN, 256, cache);
        assertThat(LocalModel.space(spec, 384, 200, 20)).isEqualTo(job.space(384));
    }
}
