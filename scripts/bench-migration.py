#!/usr/bin/env python3
"""scripts/bench-migration.py OUT DOCS REPEATS MODEL ONLY - the "migration" section of scripts/bench.sh.

Reads OUT/raw/migration-*.json (one set per repeat) and writes OUT/migration.json (every raw figure,
the medians, the ratios and the charts that `embedstream bench-plot` renders), OUT/migration.md and,
when migration is the only section of the run, OUT/summary.md (the file bench/results keeps).
"""
import json
import os
import statistics
import sys

out, docs, repeats, model, only = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]


def load(name):
    path = os.path.join(out, "raw", name)
    return json.load(open(path)) if os.path.exists(path) else None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


runs = []
for r in range(repeats):
    ingest, backfill = load(f"migration-ingest-{r}.json"), load(f"migration-backfill-{r}.json")
    idle, during = load(f"migration-latency-idle-{r}.json"), load(f"migration-latency-backfill-{r}.json")
    run = {"repeat": r, "ingest": ingest, "backfill": backfill, "latency_idle": idle, "latency_backfill": during}
    run["ingest_docs_per_s"] = ingest.get("documents_per_s") if ingest and ingest.get("complete") else None
    # The baseline of the ratio: a cold ingest with the backfill's own model (the same work per
    # document), measured in the same repeat after the serving job stopped.
    same = load(f"migration-ingest-b-{r}.json")
    run["ingest_same_model"] = same
    run["ingest_same_model_docs_per_s"] = same.get("documents_per_s") if same and same.get("complete") else None
    if backfill and backfill.get("done"):
        run["backfill_seconds"] = round(backfill["done"] - backfill["submitted"], 2)
        run["backfill_docs_per_s"] = round(docs / run["backfill_seconds"], 2)
        if backfill.get("first_row"):
            # Without the job's start (model load, source discovery): the replay itself.
            run["backfill_docs_per_s_from_first_row"] = round(docs / max(backfill["done"] - backfill["first_row"], 1e-3), 2)
    run["backfill_to_ingest"] = ratio(run.get("backfill_docs_per_s"), run["ingest_same_model_docs_per_s"])
    for phase, lat in (("idle", idle), ("backfill", during)):
        for k in ("p50_ms", "p99_ms", "unanswered", "not_ok"):
            run[f"{phase}_{k}"] = lat.get(k) if lat else None
    run["p99_backfill_to_idle"] = ratio(run["backfill_p99_ms"], run["idle_p99_ms"])
    runs.append(run)

keys = ("ingest_docs_per_s", "ingest_same_model_docs_per_s", "backfill_docs_per_s", "backfill_docs_per_s_from_first_row", "idle_p50_ms", "idle_p99_ms",
        "backfill_p50_ms", "backfill_p99_ms")
m = {k: med([run.get(k) for run in runs]) for k in keys}
m["backfill_to_ingest"] = med([run.get("backfill_to_ingest") for run in runs])
m["p99_backfill_to_idle"] = ratio(m["backfill_p99_ms"], m["idle_p99_ms"])
results = {
    "section": "migration", "documents": docs, "repeats": repeats, "backfill_model": model,
    "targets": {"backfill_to_ingest": ">= 0.9", "p99_backfill_to_idle": "<= 2.0"},
    "runs": runs, "medians": m,
    "charts": [
        {"file": "migration-throughput.png", "title": f"Cold ingest vs backfill ({docs} documents, median of {repeats})",
         "y_label": "documents/s", "labels": ["cold ingest, serving model", f"cold ingest, {model}", f"backfill ({model})",
                                              "backfill from its first row"],
         "series": {"documents/s": [m["ingest_docs_per_s"], m["ingest_same_model_docs_per_s"], m["backfill_docs_per_s"],
                                    m["backfill_docs_per_s_from_first_row"]]}},
        {"file": "migration-latency.png", "title": "Queries at 20 q/s on the serving job",
         "y_label": "ms", "labels": ["p50", "p99"],
         "series": {"idle": [m["idle_p50_ms"], m["idle_p99_ms"]], "during the backfill": [m["backfill_p50_ms"], m["backfill_p99_ms"]]}},
    ],
}
json.dump(results, open(os.path.join(out, "migration.json"), "w"), indent=2)


def fmt(v, unit=""):
    # Ratios (no unit) keep two decimals: 0.84 against a 0.9 target must not print as 0.8.
    digits = 1 if unit else 2
    return "n/a" if v is None else (f"{v:.{digits}f}{unit}" if isinstance(v, float) else f"{v}{unit}")


def verdict(v, ok):
    return "n/a" if v is None else ("met" if ok(v) else "MISSED")


lines = [
    f"# Benchmark: model migration ({docs} documents of scripts/sample/corpus.jsonl, {repeats} repeat(s), median)",
    "",
    "| figure | value | target |",
    "|---|---|---|",
    f"| cold ingest, serving job (serving model) | {fmt(m['ingest_docs_per_s'], ' docs/s')} | |",
    f"| cold ingest with {model} (the ratio's baseline) | {fmt(m['ingest_same_model_docs_per_s'], ' docs/s')} | |",
    f"| backfill ({model}), submission to last chunk | {fmt(m['backfill_docs_per_s'], ' docs/s')} | |",
    f"| backfill, first row to last chunk | {fmt(m['backfill_docs_per_s_from_first_row'], ' docs/s')} | |",
    f"| backfill / cold ingest, same model (median of per-run ratios) | {fmt(m['backfill_to_ingest'])} | >= 0.9: {verdict(m['backfill_to_ingest'], lambda v: v >= 0.9)} |",
    f"| query p50 / p99 idle (20 q/s) | {fmt(m['idle_p50_ms'], ' ms')} / {fmt(m['idle_p99_ms'], ' ms')} | |",
    f"| query p50 / p99 during the backfill | {fmt(m['backfill_p50_ms'], ' ms')} / {fmt(m['backfill_p99_ms'], ' ms')} | |",
    f"| p99 during / idle | {fmt(m['p99_backfill_to_idle'])} | <= 2: {verdict(m['p99_backfill_to_idle'], lambda v: v <= 2)} |",
    "",
    "Per run: " + "; ".join(
        f"#{run['repeat'] + 1}: ingest {fmt(run['ingest_docs_per_s'])}, backfill {fmt(run.get('backfill_docs_per_s'))} docs/s, "
        f"p99 {fmt(run['idle_p99_ms'])} -> {fmt(run['backfill_p99_ms'])} ms, unanswered {run['idle_unanswered']}/{run['backfill_unanswered']}"
        for run in runs),
    "",
    "Charts: migration-throughput.png, migration-latency.png. Raw figures: migration.json.",
]
profile = load("profile-migration-backfill.json")
if profile:
    # Where the cores went while the backfill ran beside 20 q/s (run 1): per process, and the
    # job's busiest threads.
    procs = sorted(((k, v) for k, v in (profile.get("processes") or {}).items() if isinstance(v, (int, float))),
                   key=lambda kv: -kv[1])
    threads = [(t["threads"], t["cpu_s"]) for t in (profile.get("job_threads") or [])][:6]
    lines += ["", f"Profile of run 1 during the backfill ({profile.get('wall_s', 0):.0f} s wall, "
              f"{profile.get('cores', '?')} cores, machine busy {100 * (profile.get('machine_busy_share') or 0):.0f}%): "
              "CPU-seconds per process " + ", ".join(f"{k} {v:.1f}" for k, v in procs)
              + "; job threads " + ", ".join(f"{k} {v:.1f}" for k, v in threads) + "."]
    results["profile_backfill"] = profile
    json.dump(results, open(os.path.join(out, "migration.json"), "w"), indent=2)
text = "\n".join(lines) + "\n"
open(os.path.join(out, "migration.md"), "w").write(text)
if only.strip(",") == "migration":
    open(os.path.join(out, "summary.md"), "w").write(text)
print(text)
