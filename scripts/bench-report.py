#!/usr/bin/env python3
"""The report of scripts/bench.sh: reads OUT/raw/*.json, writes OUT/results.json (figures, medians,
ratios, chart specifications for `embedstream bench-plot`) and OUT/summary.md. Standard library only.

    scripts/bench-report.py OUT QPS SECONDS ZIPF DOCS OUTAGE_DOCS REPEATS [INGEST_DOCS FIXED_SIZE PEAK SECTIONS WARMUP_DOCS]
"""
import json, os, platform, statistics, subprocess, sys
out, qps, secs, zipf, docs, outage, repeats = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
ingest_docs, fixed_size, peak = (int(sys.argv[8]), int(sys.argv[9]), float(sys.argv[10])) if len(sys.argv) > 10 else (docs, 32, 100.0)
sections = sys.argv[11] if len(sys.argv) > 11 else "model,batching,cache"
warmup_docs = int(sys.argv[12]) if len(sys.argv) > 12 else 60
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
if model and cold and model.get("docs", docs) == docs:
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

# ---- batching section ----------------------------------------------------------------------
def runs(prefix):
    return [r for r in (load(f"{prefix}-{i}.json") for i in range(repeats)) if r]
def samples(name):
    try:
        return [json.loads(l) for l in open(f"{out}/raw/{name}", encoding="utf-8") if l.strip()]
    except OSError:
        return []
def per_second(rows):
    """Batch size, padding share and model busy share between consecutive samples, from counter deltas."""
    t, size, pad, busy, depth, target = [], [], [], [], [], []
    for a, b in zip(rows, rows[1:]):
        d = lambda k: b.get(k, 0) - a.get(k, 0)
        dt = b["t"] - a["t"]
        if dt <= 0:
            continue
        t.append(round(b["t"] - rows[0]["t"], 1))
        size.append(round(d("textsEmbedded") / d("batches"), 2) if d("batches") > 0 else None)
        pad.append(round(max(0.0, 100 * (1 - d("batchTokensReal") / d("batchTokensPadded"))), 1) if d("batchTokensPadded") > 0 else None)
        busy.append(round(d("modelMillisTotal") / (dt * 1000 * 2), 3))  # 2 subtasks
        depth.append(b.get("documentLaneDepth"))
        target.append(b.get("batchTokenTarget"))
    return {"t": t, "batch_size": size, "padding_percent": pad, "model_busy": busy, "lane_depth": depth, "token_target": target}
def totals(rows):
    if len(rows) < 2:
        return {}
    a, b = rows[0], rows[-1]
    d = lambda k: b.get(k, 0) - a.get(k, 0)
    return {"batches": d("batches"), "texts": d("textsEmbedded"),
            "mean_batch_size": d("textsEmbedded") / d("batches") if d("batches") else None,
            "padding_percent": max(0.0, 100 * (1 - d("batchTokensReal") / d("batchTokensPadded"))) if d("batchTokensPadded") else None,
            "model_ms_per_text": d("modelMillisTotal") / d("textsEmbedded") if d("textsEmbedded") else None,
            "model_busy": d("modelMillisTotal") / ((b["t"] - a["t"]) * 1000 * 2) if b["t"] > a["t"] else None}
if "batching" in sections and runs("ingest-adaptive"):
    chunks = model["chunks"] if model and model.get("docs") == ingest_docs else None
    b = {"ingest_docs": ingest_docs, "chunks": chunks, "fixed_size": fixed_size, "variants": {}}
    for v in ("adaptive", "fixed", "single"):
        rs = runs(f"ingest-{v}")
        dps = [r["documents_per_s"] for r in rs]
        b["variants"][v] = {"runs": rs, "median_documents_per_s": med(dps),
                            "median_chunks_per_s": med(dps) * chunks / ingest_docs if chunks and dps else None,
                            "incomplete": sum(0 if r["complete"] else 1 for r in rs),
                            "batches": [totals(samples(f"batches-{v}-{i}.jsonl")) for i in range(repeats)]}
    bv = b["variants"]
    ratio = lambda x, y: x / y if x and y else None
    b["adaptive_over_single"] = ratio(bv["adaptive"]["median_documents_per_s"], bv["single"]["median_documents_per_s"])
    b["adaptive_over_fixed"] = ratio(bv["adaptive"]["median_documents_per_s"], bv["fixed"]["median_documents_per_s"])
    b["raw_best_chunks_per_s"] = model and model["best_chunks_per_s"]
    b["adaptive_over_raw"] = ratio(bv["adaptive"]["median_chunks_per_s"], b["raw_best_chunks_per_s"])
    re_runs = runs("reingest")
    pairs = [r["documents_per_s"] / c["documents_per_s"] for r, c in zip(re_runs, bv["adaptive"]["runs"]) if r.get("complete")]
    b["reingest"] = {"runs": re_runs, "median_documents_per_s": med([r["documents_per_s"] for r in re_runs]),
                     "ratios_to_cold": pairs, "median_ratio_to_cold": med(pairs)}
    def lat(prefix):
        rs = runs(prefix)
        return {"runs": rs, **{k: med([r[k] for r in rs if r.get(k) is not None]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
                "unanswered": sum(r["unanswered"] for r in rs), "not_ok": sum(r["not_ok"] for r in rs)}
    b["latency_idle"] = lat("latency-idle")
    b["latency_backlog"] = lat("latency-backlog")
    back = runs("backlog-ingest")
    b["backlog"] = {"runs": back, "lane_depth_median": [med([x for x in per_second(samples(f"batches-backlog-{i}.jsonl"))["lane_depth"] if x is not None]) for i in range(repeats)]}
    b["shapes"] = {}
    for shape in ("constant", "ramp", "burst", "spike", "wave"):
        rs = runs(f"shape-{shape}")
        if rs:
            b["shapes"][shape] = {"runs": rs, **{k: med([r[k] for r in rs if r.get(k) is not None]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_rate_error", "send_lag_p99_ms", "rate_sent_qps")},
                                  "unanswered": sum(r["unanswered"] for r in rs), "not_ok": sum(r["not_ok"] for r in rs)}
    b["over_time"] = {v: per_second(samples(f"batches-{v}-0.jsonl")) for v in ("adaptive", "fixed", "single")}
    b["over_time"]["backlog"] = per_second(samples("batches-backlog-0.jsonl"))
    # Raw: 2 engines in parallel, so each spends 2 / (chunks/s) seconds per chunk.
    b["raw_model_ms_per_chunk"] = 2000 / model["best_chunks_per_s"] if model else None
    b["profiles"] = {ph: pr for ph in ("ingest", "backlog") if (pr := load(f"profile-{ph}.json"))}
    res["batching"] = b
    unit = "chunks/s" if chunks else "documents/s"
    key = "median_chunks_per_s" if chunks else "median_documents_per_s"
    res["charts"] += [
        {"file": "batching-throughput.png", "title": f"Ingest of {ingest_docs} documents, cold (median of {repeats})", "y_label": unit,
         "labels": (["raw ONNX Runtime (best)"] if chunks else []) + ["pipeline: adaptive", f"fixed unsorted ({fixed_size})", "per record (1)"],
         "series": {unit: ([b["raw_best_chunks_per_s"]] if chunks else []) + [bv[v][key] for v in ("adaptive", "fixed", "single")]}},
        {"file": "batching-latency.png", "title": "Query latency, client side (median of runs)", "y_label": "ms",
         "labels": ["idle 20 q/s", "backlog 20 q/s"] + [f"{k} 20-{peak:g}" for k in b["shapes"]],
         "series": {p: [b["latency_idle"][f"{p}_ms"], b["latency_backlog"][f"{p}_ms"]] + [b["shapes"][k][f"{p}_ms"] for k in b["shapes"]] for p in ("p50", "p95", "p99")}},
        {"type": "line", "file": "batching-batch-size.png", "title": "Mean batch size per second during the ingest (run 1)", "x_label": "s", "y_label": "texts per batch",
         "series": {v: {"x": b["over_time"][v]["t"], "y": b["over_time"][v]["batch_size"]} for v in ("adaptive", "fixed", "single")}},
        {"type": "line", "file": "batching-padding.png", "title": "Padding share per second during the ingest (run 1)", "x_label": "s", "y_label": "% of padded tokens",
         "series": {v: {"x": b["over_time"][v]["t"], "y": b["over_time"][v]["padding_percent"]} for v in ("adaptive", "fixed", "single")}},
        {"type": "line", "file": "batching-backlog.png", "title": "Under the backlog (run 1): lane depth and batch size", "x_label": "s", "y_label": "chunks",
         "series": {"lane depth (both subtasks)": {"x": b["over_time"]["backlog"]["t"], "y": b["over_time"]["backlog"]["lane_depth"]},
                    "mean batch size": {"x": b["over_time"]["backlog"]["t"], "y": b["over_time"]["backlog"]["batch_size"]}}},
    ]
    if b["shapes"]:
        res["charts"].append({"type": "line", "file": "batching-shapes.png", "title": "Load shapes (run 1): queries sent per second", "x_label": "s", "y_label": "q/s",
            "series": {k: {"x": [p["t"] for p in b["shapes"][k]["runs"][0].get("per_second", [])],
                           "y": [p["sent"] for p in b["shapes"][k]["runs"][0].get("per_second", [])]} for k in b["shapes"]}})

for chart in res["charts"]:
    if chart.get("type") != "line":
        chart["series"] = {k: [None if v is None else round(v, 1) for v in vs] for k, vs in chart["series"].items()}
json.dump(res, open(f"{out}/results.json", "w"), indent=2)
fmt = lambda x, d=1: "n/a" if x is None else f"{x:.{d}f}"
ok = lambda cond: "met" if cond else "NOT met"
lines = [f"# Benchmark ({res['machine']['cores']} cores, commit {res['machine']['commit']})", "",
         f"Command: `scripts/bench.sh --only {sections} --repeats {repeats} --ingest-docs {ingest_docs} --warmup-docs {warmup_docs} --fixed-size {fixed_size} --peak {peak:g} --qps {qps:g} --seconds {secs} --zipf {zipf:g} --docs {docs} --outage-docs {outage}`", ""]
if model:
    c = model.get("compare") or {}
    cos_key = next((k for k in c if k.startswith("mean_cosine")), None)
    lines += ["## Model alone (raw ONNX Runtime, the pipeline's ceiling)", "", "| figure | value | target |", "|---|---|---|",
              f"| chunks of the first {model.get('docs', docs)} documents | {model['chunks']} ({model['tokens']} tokens) | |",
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
b = res.get("batching")
if b:
    bv = b["variants"]
    cps = lambda v: f"{fmt(bv[v]['median_chunks_per_s'])} chunks/s" if bv[v]["median_chunks_per_s"] else f"{fmt(bv[v]['median_documents_per_s'])} documents/s"
    li, lb = b["latency_idle"], b["latency_backlog"]
    run1 = {v: bv[v]["batches"][0] for v in ("adaptive", "fixed", "single") if bv[v]["batches"] and bv[v]["batches"][0]}
    lines += ["## Batching", "", f"Medians of {repeats} runs; each ingest is {ingest_docs} documents" + (f" ({b['chunks']} chunks)" if b["chunks"] else "") + f" in a fresh job JVM with cold caches, after a JIT warm-up of {warmup_docs} other documents.", "",
              "| figure | value | target |", "|---|---|---|"]
    if b["adaptive_over_raw"] is not None:
        lines.append(f"| pipeline ingest (adaptive) / raw ONNX Runtime best | {cps('adaptive')} / {fmt(b['raw_best_chunks_per_s'])} = {fmt(b['adaptive_over_raw'], 2)} | >= 0.75: {ok(b['adaptive_over_raw'] >= 0.75)} |")
    lines += [f"| adaptive / per record (batch size 1) | {cps('adaptive')} / {cps('single')} = {fmt(b['adaptive_over_single'], 2)}x | >= 2x: {ok((b['adaptive_over_single'] or 0) >= 2)} |",
              f"| adaptive / fixed unsorted batches of {fixed_size} | {cps('adaptive')} / {cps('fixed')} = {fmt(b['adaptive_over_fixed'], 2)}x | > 1: {ok((b['adaptive_over_fixed'] or 0) > 1)} |",
              "| batches: mean size / padding % / model busy share (run 1: adaptive, fixed, per record) | " + "; ".join(
                  f"{fmt(t.get('mean_batch_size'))} / {fmt(t.get('padding_percent'))} / {fmt(t.get('model_busy'), 2)}" for t in run1.values()) + " | |",
              "| model time per chunk inside the job (run 1: adaptive, fixed, per record) vs raw ONNX Runtime best (per engine) | " + ", ".join(
                  fmt(t.get("model_ms_per_text")) for t in run1.values()) + f" ms vs {fmt(b['raw_model_ms_per_chunk'])} ms | |",
              f"| unchanged re-ingest / cold ingest | {fmt(b['reingest']['median_documents_per_s'])} / {fmt(bv['adaptive']['median_documents_per_s'])} documents/s, median ratio {fmt(b['reingest']['median_ratio_to_cold'])}x | >= 20x: {ok((b['reingest']['median_ratio_to_cold'] or 0) >= 20)} |",
              f"| query p50 / p95 / p99 at 20 q/s idle (ms) | {fmt(li['p50_ms'])} / {fmt(li['p95_ms'])} / {fmt(li['p99_ms'])}; {li['unanswered']} unanswered, {li['not_ok']} not ok | p99 <= 100: {ok(li['p99_ms'] is not None and li['p99_ms'] <= 100)} |",
              f"| query p50 / p95 / p99 at 20 q/s under a document backlog (ms) | {fmt(lb['p50_ms'])} / {fmt(lb['p95_ms'])} / {fmt(lb['p99_ms'])}; {lb['unanswered']} unanswered, {lb['not_ok']} not ok | p99 <= 250: {ok(lb['p99_ms'] is not None and lb['p99_ms'] <= 250)} |",
              "| backlog: its ingest (documents/s) and median lane depth per run | " + ", ".join(f"{fmt(r['documents_per_s'])} docs/s over {fmt(r['seconds'])} s" for r in b["backlog"]["runs"]) + "; lane depth " + ", ".join(fmt(x, 0) for x in b["backlog"]["lane_depth_median"]) + " | saturated while queries ran |"]
    for k, v in b["shapes"].items():
        lines.append(f"| load shape {k} (20 -> {peak:g} q/s): p50 / p95 / p99 (ms); worst per-second rate error; send lag p99 | {fmt(v['p50_ms'])} / {fmt(v['p95_ms'])} / {fmt(v['p99_ms'])}; {fmt(100 * v['max_rate_error'] if v['max_rate_error'] is not None else None)}%; {fmt(v['send_lag_p99_ms'])} ms; {v['unanswered']} unanswered, {v['not_ok']} not ok | |")
    lines.append("")
    # Threads parked in these native calls are idle (waiting for I/O or a connection), not working.
    IDLE_FRAMES = {"sun.nio.ch.EPoll.wait", "sun.nio.ch.Net.accept", "sun.nio.ch.Net.poll", "java.net.PlainSocketImpl.socketAccept"}
    PHASES = {"ingest": "adaptive cold ingest", "backlog": "20 q/s under the document backlog"}
    if b["profiles"]:
        lines += ["## Where the time goes (run 1, adaptive job; `scripts/bench-profile.py`)", "",
                  "| phase | machine | CPU-seconds per process | job threads (CPU-s) | JFR: top native frames / Java execution samples |", "|---|---|---|---|---|"]
    for ph, pr in b["profiles"].items():
        cap = pr["wall_s"] * pr["cores"]
        top = lambda kind: ", ".join([f"{f['frame'].rsplit('.', 2)[-2]}.{f['frame'].rsplit('.', 1)[-1]} {f['samples']}"
                                      for f in pr["jfr"][kind]["top"] if f["frame"] not in IDLE_FRAMES][:3])
        lines.append(f"| {PHASES[ph]} | {fmt(pr['wall_s'])} s x {pr['cores']} cores = {fmt(cap)} CPU-s, {fmt(100 * (pr['machine_busy_share'] or 0), 0)}% busy | "
                     + ", ".join(f"{k} {fmt(v)}" for k, v in pr["processes"].items() if v >= 0.1) + " | "
                     + ", ".join(f"{t['threads']} {fmt(t['cpu_s'])}" for t in pr["job_threads"][:6]) + " | "
                     + f"native, not idle in epoll/accept ({pr['jfr']['native']['samples']} samples): {top('native')}; Java ({pr['jfr']['execution']['samples']} samples): {top('execution')} |")
    if b["profiles"]:
        lines.append("")
lines.append("Charts: " + ", ".join(f"`{ch['file']}`" for ch in res["charts"]) + ". Raw figures: `results.json`.")
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
