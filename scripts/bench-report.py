#!/usr/bin/env python3
"""The report of scripts/bench.sh: reads OUT/raw/*.json, writes OUT/results.json (figures, medians,
ratios, chart specifications for `embedstream bench-plot`) and OUT/summary.md. Standard library only.

    scripts/bench-report.py OUT QPS SECONDS ZIPF DOCS OUTAGE_DOCS REPEATS
"""
import json, os, platform, statistics, subprocess, sys
out, qps, secs, zipf, docs, outage, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
raw = lambda name: json.load(open(f"{out}/raw/{name}"))
def load(name):
    try:
        return raw(name)
    except (OSError, ValueError):
        return None
med = lambda xs: statistics.median(xs) if xs else None
cold, cached = load("ingest-cold.json"), load("ingest-cached.json")
zipf_runs = [r for r in (load(f"zipf-{i}.json") for i in range(repeats)) if r]
variants = {v: {"ingest": [r for r in (load(f"{v}-ingest-{i}.json") for i in range(repeats)) if r],
                "queries": [r for r in (load(f"{v}-queries-{i}.json") for i in range(repeats)) if r]} for v in ("noredis", "deadredis")}
def vsum(v, part, key):
    return sum(r[key] for r in variants[v][part] if r.get(key) is not None)
res = {
    "machine": {"cores": os.cpu_count(), "python_platform": platform.platform(),
                "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()},
    "parameters": {"qps": qps, "seconds": secs, "zipf_s": zipf, "docs": docs, "outage_docs": outage, "repeats": repeats},
    "ingest": {"cold": cold, "cached_texts": cached,
               "cached_over_cold": cached["documents_per_s"] / cold["documents_per_s"] if cold and cached else None},
    "zipf": {"runs": zipf_runs,
             "median_answered_qps": med([r["answered_qps"] for r in zipf_runs]),
             "median_hit_ratio": med([r["cache_hit_ratio"] for r in zipf_runs]),
             "median_hit_p50_ms": med([r["hits"].get("p50_ms") for r in zipf_runs if r["hits"].get("p50_ms") is not None]),
             "median_hit_p99_ms": med([r["hits"].get("p99_ms") for r in zipf_runs if r["hits"].get("p99_ms") is not None]),
             "median_miss_p50_ms": med([r["misses"].get("p50_ms") for r in zipf_runs if r["misses"].get("p50_ms") is not None]),
             "median_miss_p99_ms": med([r["misses"].get("p99_ms") for r in zipf_runs if r["misses"].get("p99_ms") is not None]),
             "unanswered": sum(r["unanswered"] for r in zipf_runs), "not_ok": sum(r["not_ok"] for r in zipf_runs)},
    "redis_down": {v: {"runs": variants[v],
                       "median_documents_per_s": med([r["documents_per_s"] for r in variants[v]["ingest"]]),
                       "incomplete_ingests": sum(0 if r["complete"] else 1 for r in variants[v]["ingest"]),
                       "unanswered_queries": vsum(v, "queries", "unanswered"),
                       "not_ok_queries": vsum(v, "queries", "not_ok")} for v in variants},
}
nr, dr = res["redis_down"]["noredis"]["median_documents_per_s"], res["redis_down"]["deadredis"]["median_documents_per_s"]
res["redis_down"]["deadredis_over_noredis"] = dr / nr if nr and dr else None
z = res["zipf"]
model = load("model.json")
res["model"] = model
if model and cold:
    pipeline_chunks_per_s = cold["documents_per_s"] * model["chunks"] / docs
    res["model"]["pipeline_chunks_per_s"] = pipeline_chunks_per_s
    res["model"]["pipeline_over_raw"] = pipeline_chunks_per_s / model["best_chunks_per_s"]
res["charts"] = [] if not model else [
    {"file": "model-throughput.png", "title": f"Raw ONNX Runtime on {model['chunks']} chunks ({model['parallel']} engines x {model['threads_per_engine']} thread)",
     "y_label": "chunks/s", "labels": list(model["chunks_per_s"].keys()), "series": {"chunks/s": list(model["chunks_per_s"].values())}}]
res["charts"] += [] if not cold else [
    {"file": "cache-ingest.png", "title": "Ingest throughput (median where repeated)", "y_label": "documents/s",
     "labels": ["cold (Redis on)", "texts cached", "no Redis", "Redis stopped"],
     "series": {"documents/s": [cold and cold["documents_per_s"], cached and cached["documents_per_s"], nr, dr]}},
    {"file": "cache-query-latency.png", "title": f"Zipf queries at {qps:g} q/s: latency (median of {len(zipf_runs)} runs)",
     "y_label": "ms", "labels": ["p50", "p95", "p99"],
     "series": {"hits": [med([r["hits"].get(k) for r in zipf_runs if r["hits"].get(k) is not None]) for k in ("p50_ms", "p95_ms", "p99_ms")],
                "misses": [med([r["misses"].get(k) for r in zipf_runs if r["misses"].get(k) is not None]) for k in ("p50_ms", "p95_ms", "p99_ms")]}},
]
for chart in res["charts"]:
    chart["series"] = {k: [None if v is None else round(v, 1) for v in vs] for k, vs in chart["series"].items()}
json.dump(res, open(f"{out}/results.json", "w"), indent=2)
fmt = lambda x, d=1: "n/a" if x is None else f"{x:.{d}f}"
ok = lambda cond: "met" if cond else "NOT met"
lines = [f"# Benchmark ({res['machine']['cores']} cores, commit {res['machine']['commit']})", "",
         f"Command: `scripts/bench.sh --repeats {repeats} --qps {qps:g} --seconds {secs} --zipf {zipf:g} --docs {docs} --outage-docs {outage}`", ""]
if model:
    c = model.get("compare") or {}
    cos_key = next((k for k in c if k.startswith("mean_cosine")), None)
    lines += ["## Model alone (raw ONNX Runtime, the pipeline's ceiling)", "", "| figure | value | target |", "|---|---|---|",
              f"| chunks of the first {docs} documents | {model['chunks']} ({model['tokens']} tokens) | |",
              "| chunks/s per setting (median of " + str(repeats) + ") | " + ", ".join(f"{k} {v:g}" for k, v in model["chunks_per_s"].items()) + " | |",
              f"| best raw setting | {model['best']}: {fmt(model['best_chunks_per_s'])} chunks/s | |"]
    if model.get("pipeline_over_raw") is not None:
        lines.append(f"| pipeline cold ingest (Kafka -> Flink -> Milvus) / raw best | {fmt(model['pipeline_chunks_per_s'])} / {fmt(model['best_chunks_per_s'])} chunks/s = {fmt(model['pipeline_over_raw'], 2)} | >= 0.75: {ok(model['pipeline_over_raw'] >= 0.75)} |")
    if c:
        lines.append(f"| int8 ({c['model']}) at that setting / fp32 | {fmt(c['chunks_per_s'])} / {fmt(model['best_chunks_per_s'])} chunks/s = {fmt(c['chunks_per_s'] / model['best_chunks_per_s'], 2)}x; mean cosine to fp32 {c.get(cos_key)} | >= 1.4x: {ok(c['chunks_per_s'] / model['best_chunks_per_s'] >= 1.4)}; cosine >= 0.98: {ok((c.get(cos_key) or 0) >= 0.98)} |")
    lines.append("")
if cold:
    lines += ["## Caches", "",
    "| figure | value | target |", "|---|---|---|",
    f"| Zipf queries answered/s (offered {qps:g}/s for {secs}s after 5 s warm-up), median of {len(zipf_runs)} | {fmt(z['median_answered_qps'])}, {z['unanswered']} unanswered | >= 1,000 sustained: {ok(qps >= 1000 and (z['median_answered_qps'] or 0) >= 0.99 * qps and z['unanswered'] == 0)} |",
    f"| hit ratio | {fmt(z['median_hit_ratio'], 3)} | >= 0.8: {ok((z['median_hit_ratio'] or 0) >= 0.8)} |",
    f"| hits p50 / p99 (ms), client-side | {fmt(z['median_hit_p50_ms'])} / {fmt(z['median_hit_p99_ms'])} | p99 <= 30: {ok(z['median_hit_p99_ms'] is not None and z['median_hit_p99_ms'] <= 30)} |",
    f"| hits p50 / p99 (ms) inside the job (query's Kafka timestamp -> answer made) | {fmt(med([r['hits_took_in_job'].get('p50_ms') for r in zipf_runs if r.get('hits_took_in_job', {}).get('p50_ms') is not None]))} / {fmt(med([r['hits_took_in_job'].get('p99_ms') for r in zipf_runs if r.get('hits_took_in_job', {}).get('p99_ms') is not None]))} | |",
    "| per run: hits p50 / p99 (ms) | " + ", ".join(f"{fmt(r['hits'].get('p50_ms'))} / {fmt(r['hits'].get('p99_ms'))}" for r in zipf_runs) + " | |",
    f"| misses p50 / p99 (ms) | {fmt(z['median_miss_p50_ms'])} / {fmt(z['median_miss_p99_ms'])} | |",
    f"| unanswered / not ok queries (all Zipf runs) | {z['unanswered']} / {z['not_ok']} | 0 |",
    f"| cold ingest (documents/s) | {fmt(cold and cold['documents_per_s'])} | |",
    f"| re-ingest of cached texts (documents/s), ratio to cold | {fmt(cached and cached['documents_per_s'])}, {fmt(res['ingest']['cached_over_cold'], 2)}x | |",
    f"| ingest with Redis stopped / no Redis (median documents/s) | {fmt(dr)} / {fmt(nr)} = {fmt(res['redis_down']['deadredis_over_noredis'], 3)} | >= 0.9: {ok((res['redis_down']['deadredis_over_noredis'] or 0) >= 0.9)} |",
    f"| Redis stopped: ingests with documents missing / queries unanswered / not ok | {res['redis_down']['deadredis']['incomplete_ingests']} / {res['redis_down']['deadredis']['unanswered_queries']} / {res['redis_down']['deadredis']['not_ok_queries']} | 0 / 0 / 0 |",
    ""]
lines.append("Charts: " + ", ".join(f"`{ch['file']}`" for ch in res["charts"]) + ". Raw figures: `results.json`.")
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
