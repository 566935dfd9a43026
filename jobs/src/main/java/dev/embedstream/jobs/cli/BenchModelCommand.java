package dev.embedstream.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.embedstream.common.Defaults;
import dev.embedstream.common.embed.EmbeddingEngine;
import dev.embedstream.common.embed.ModelCatalog;
import dev.embedstream.common.embed.ModelSpec;
import dev.embedstream.common.embed.TextChunker;
import dev.embedstream.common.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The model alone, without Kafka, Flink or Milvus: the ceiling the pipeline is measured against.
 * Chunks the first documents of a corpus exactly as the job does (256-token windows, 32 overlap),
 * then embeds them with {@code --parallel} engines of {@code --threads} ONNX Runtime threads each
 * (the job's default: 2 subtasks x 1 thread), in batches of each size, once in arrival order and
 * once grouped by token length; chunks/s are medians over {@code --repeats}. With
 * {@code --compare MODEL} it also reports that model's throughput at the best setting and the
 * mean cosine between its vectors and the first model's.
 */
@Command(name = "bench-model", mixinStandardHelpOptions = true,
        description = "Raw ONNX Runtime throughput on the corpus chunks (the pipeline's ceiling), and a model comparison.")
final class BenchModelCommand implements Callable<Integer> {

    @Option(names = "--corpus", defaultValue = "scripts/sample/corpus.jsonl")
    Path corpus;

    @Option(names = "--docs", defaultValue = "150", description = "First N documents (default: ${DEFAULT-VALUE}).")
    int docs;

    @Option(names = "--model", defaultValue = ModelCatalog.DEFAULT_MODEL)
    String model;

    @Option(names = "--compare", description = "A second model (e.g. all-minilm-l6-v2-q, the int8 variant).")
    String compare;

    @Mixin
    EngineOptions runtime;

    @Option(names = "--batch-sizes", defaultValue = "1,16,64", split = ",")
    List<Integer> batchSizes;

    @Option(names = "--repeats", defaultValue = "3")
    int repeats;

    @Mixin
    JsonReport report;

    private record Chunk(String text, int tokens) {}

    @Override
    public Integer call() throws Exception {
        ModelSpec spec = runtime.spec(model);
        List<Chunk> chunks = chunks(spec);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", model);
        result.put("docs", docs);
        result.put("chunks", chunks.size());
        result.put("tokens", chunks.stream().mapToLong(Chunk::tokens).sum());
        result.put("parallel", runtime.parallel);
        result.put("threads_per_engine", runtime.threads);
        Map<String, Object> runs = new LinkedHashMap<>();
        double best = 0;
        String bestKey = null;
        List<EmbeddingEngine> engines = runtime.open(spec);
        try {
            embedAll(engines, chunks, 8, true); // warm-up: JIT, ORT arenas
            for (int size : batchSizes) {
                for (boolean sorted : List.of(false, true)) {
                    double perSecond = medianChunksPerSecond(engines, chunks, size, sorted);
                    String key = "batch_" + size + (sorted ? "_length_grouped" : "_arrival_order");
                    runs.put(key, Math.round(perSecond * 10) / 10.0);
                    System.err.printf("%s: %.1f chunks/s%n", key, perSecond);
                    if (perSecond > best) {
                        best = perSecond;
                        bestKey = key;
                    }
                }
            }
        } finally {
            engines.forEach(EmbeddingEngine::close);
        }
        result.put("chunks_per_s", runs);
        result.put("best", bestKey);
        result.put("best_chunks_per_s", Math.round(best * 10) / 10.0);
        if (compare != null) {
            result.put("compare", compare(spec, chunks, bestKey));
        }
        report.publish(result);
        return 0;
    }

    private List<Chunk> chunks(ModelSpec spec) throws Exception {
        List<Chunk> chunks = new ArrayList<>();
        try (TextChunker chunker = new TextChunker(spec, Defaults.CHUNK_MAX_TOKENS, Defaults.CHUNK_OVERLAP_TOKENS)) {
            for (String line : Files.readAllLines(corpus, StandardCharsets.UTF_8).subList(0, docs)) {
                JsonNode doc = Json.mapper().readTree(line);
                for (TextChunker.Chunk c : chunker.chunk(doc.get("text").asText())) {
                    chunks.add(new Chunk(c.text(), c.tokens()));
                }
            }
        }
        return chunks;
    }

    private double medianChunksPerSecond(List<EmbeddingEngine> engines, List<Chunk> chunks, int size, boolean sorted)
            throws Exception {
        List<Double> rates = new ArrayList<>();
        for (int r = 0; r < repeats; r++) {
            long t0 = System.nanoTime();
            embedAll(engines, chunks, size, sorted);
            rates.add(chunks.size() / ((System.nanoTime() - t0) / 1e9));
        }
        rates.sort(Comparator.naturalOrder());
        return rates.get(rates.size() / 2);
    }

    /** Splits the chunks round-robin over the engines (as two subtasks would get them) and embeds each share in batches. */
    private static List<float[]> embedAll(List<EmbeddingEngine> engines, List<Chunk> chunks, int size, boolean sorted)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(engines.size());
        try {
            List<Future<List<float[]>>> shares = new ArrayList<>();
            for (int e = 0; e < engines.size(); e++) {
                List<Chunk> share = new ArrayList<>();
                for (int i = e; i < chunks.size(); i += engines.size()) {
                    share.add(chunks.get(i));
                }
                if (sorted) {
                    share.sort(Comparator.comparingInt(Chunk::tokens));
                }
                EmbeddingEngine engine = engines.get(e);
                shares.add(pool.submit(() -> {
                    List<float[]> vectors = new ArrayList<>();
                    for (int i = 0; i < share.size(); i += size) {
                        List<String> batch = share.subList(i, Math.min(i + size, share.size())).stream().map(Chunk::text).toList();
                        vectors.addAll(List.of(engine.embed(batch)));
                    }
                    return vectors;
                }));
            }
            List<float[]> all = new ArrayList<>();
            for (Future<List<float[]>> f : shares) {
                all.addAll(f.get());
            }
            return all;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The second model at the first one's best setting, and the mean cosine between their vectors. */
    private Map<String, Object> compare(ModelSpec baseSpec, List<Chunk> chunks, String bestKey) throws Exception {
        int size = Integer.parseInt(bestKey.split("_")[1]);
        boolean sorted = bestKey.endsWith("length_grouped");
        List<Chunk> ordered = new ArrayList<>(chunks);
        List<EmbeddingEngine> base = runtime.open(baseSpec);
        List<float[]> baseVectors;
        try {
            baseVectors = embedOnOne(base.get(0), ordered);
        } finally {
            base.forEach(EmbeddingEngine::close);
        }
        List<EmbeddingEngine> engines = runtime.open(runtime.spec(compare));
        Map<String, Object> m = new LinkedHashMap<>();
        try {
            embedAll(engines, chunks, 8, true);
            double rate = medianChunksPerSecond(engines, chunks, size, sorted);
            List<float[]> otherVectors = embedOnOne(engines.get(0), ordered);
            double sum = 0;
            double min = 1;
            for (int i = 0; i < ordered.size(); i++) {
                double c = cosine(baseVectors.get(i), otherVectors.get(i));
                sum += c;
                min = Math.min(min, c);
            }
            m.put("model", compare);
            m.put("setting", bestKey);
            m.put("chunks_per_s", Math.round(rate * 10) / 10.0);
            m.put("mean_cosine_to_" + model, Math.round(sum / ordered.size() * 10000) / 10000.0);
            m.put("min_cosine_to_" + model, Math.round(min * 10000) / 10000.0);
        } finally {
            engines.forEach(EmbeddingEngine::close);
        }
        return m;
    }

    private static List<float[]> embedOnOne(EmbeddingEngine engine, List<Chunk> chunks) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i += 16) {
            out.addAll(List.of(engine.embed(chunks.subList(i, Math.min(i + 16, chunks.size())).stream().map(Chunk::text).toList())));
        }
        return out;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
