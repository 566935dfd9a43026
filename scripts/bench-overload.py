#!/usr/bin/env python3
"""scripts/bench-overload.py OUT REPEATS ONLY FAIR_DOCS FAIR_SECONDS OVERLOAD_SECONDS - the "overload" section of scripts/bench.sh.

Reads OUT/raw/overload-*.json (one set per repeat) and writes OUT/overload.json (every raw figure,
the medians, the ratios, the targets met or not and the charts that `embedstream bench-plot`
renders), OUT/overload.md and, when overload is the only section of the run, OUT/summary.md.
"""
import json
import os
import statistics
import sys

out, repeats, only = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fair_docs, fair_seconds, overload_seconds = (int(v) for v in sys.argv[4:7])


def load(name):
    path = os.path.join(out, "raw", name)
    try:
        return json.load(open(path)) if os.path.exists(path) else None
    except ValueError:
        return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def get(report, key):
    return report.get(key) if report else None


def heap_max(name):
    # "epoch bytes" lines of bench.sh's heap_sample; MiB
    path = os.path.join(out, "raw", name)
    if not os.path.exists(path):
        return None
    values = [float(l.split()[1]) for l in open(path) if len(l.split()) == 2]
    return round(max(values) / 2**20, 1) if values else None


def recovery_seconds(recovery, idle_p99):
    """Seconds from the end of the burst until a second's p99 is within 1.2 x the idle p99."""
    if not recovery or idle_p99 is None:
        return None
    for row in recovery.get("per_second", []):
        if row.get("p99_ms") is not None and row["p99_ms"] <= 1.2 * idle_p99:
            return row["t"]
    return None


runs = []
for r in range(repeats):
    run = {"repeat": r}
    alone, backlog = load(f"overload-fresh-alone-{r}.json"), load(f"overload-fresh-backlog-{r}.json")
    bq_alone, bq_backlog, third = load(f"overload-bq-alone-{r}.json"), load(f"overload-bq-backlog-{r}.json"), load(f"overload-third-{r}.json")
    hits, capacity, idle = load(f"overload-hits-{r}.json"), load(f"overload-capacity-{r}.json"), load(f"overload-idle-{r}.json")
    burst, recovery = load(f"overload-burst-{r}.json"), load(f"overload-recovery-{r}.json")
    run["raw"] = {"fresh_alone": alone, "fresh_backlog": backlog, "b_queries_alone": bq_alone, "b_queries_backlog": bq_backlog,
                  "third_tenant": third, "hits": hits, "capacity": capacity, "idle": idle, "burst": burst, "recovery": recovery}
    run["b_fresh_alone_p50_ms"], run["b_fresh_alone_p99_ms"] = get(alone, "p50_ms"), get(alone, "p99_ms")
    run["b_fresh_backlog_p50_ms"], run["b_fresh_backlog_p99_ms"] = get(backlog, "p50_ms"), get(backlog, "p99_ms")
    run["b_fresh_missing"] = (get(alone, "missing") or 0) + (get(backlog, "missing") or 0) if alone or backlog else None
    run["b_query_alone_p99_ms"], run["b_query_backlog_p99_ms"] = get(bq_alone, "p99_ms"), get(bq_backlog, "p99_ms")
    run["third_p99_ms"] = get(third, "p99_ms")
    run["b_fresh_p99_ratio"] = ratio(run["b_fresh_backlog_p99_ms"], run["b_fresh_alone_p99_ms"])
    run["b_query_p99_ratio"] = ratio(run["b_query_backlog_p99_ms"], run["b_query_alone_p99_ms"])
    run["hits_p99_ms"], run["hits_unanswered"], run["hit_ratio"] = get(hits, "p99_ms"), get(hits, "unanswered"), get(hits, "cache_hit_ratio")
    run["hits_answered_qps"] = get(hits, "answered_qps")
    run["capacity_qps"] = (get(load(f"overload-capacity-rate-{r}.json"), "capacity_qps"))
    run["idle_p99_ms"] = get(idle, "p99_ms")
    run["burst_offered"], run["burst_by_status"] = get(burst, "offered"), get(burst, "by_status")
    run["burst_unanswered"], run["burst_duplicates"], run["burst_late"] = get(burst, "unanswered"), get(burst, "duplicates"), get(burst, "late")
    run["burst_heap_max_mib"] = heap_max(f"overload-burst-heap-{r}.txt")
    run["recovery_s"] = recovery_seconds(recovery, run["idle_p99_ms"])
    runs.append(run)

keys = ("b_fresh_alone_p50_ms", "b_fresh_alone_p99_ms", "b_fresh_backlog_p50_ms", "b_fresh_backlog_p99_ms", "b_query_alone_p99_ms",
        "b_query_backlog_p99_ms", "third_p99_ms", "hits_p99_ms", "hits_unanswered", "hit_ratio", "hits_answered_qps", "capacity_qps",
        "idle_p99_ms", "burst_offered", "burst_unanswered", "burst_duplicates", "burst_late", "burst_heap_max_mib", "recovery_s",
        "b_fresh_missing")
m = {k: med([run.get(k) for run in runs]) for k in keys}
m["b_fresh_p99_ratio"] = med([run["b_fresh_p99_ratio"] for run in runs])
m["b_query_p99_ratio"] = med([run["b_query_p99_ratio"] for run in runs])
statuses = sorted({s for run in runs for s in (run["burst_by_status"] or {})})
m["burst_by_status"] = {s: med([(run["burst_by_status"] or {}).get(s, 0) for run in runs]) for s in statuses}
# Run 1 only: the rate steps and the highest rate whose p99 stayed <= 100 ms, held for OVERLOAD_SECONDS.
steps = [(rate, load(f"overload-step-{rate}.json")) for rate in (1000, 1500, 2000, 3000, 4000)]
steps = [(rate, s) for rate, s in steps if s]
sustained = load("overload-sustained.json")
passing = [rate for rate, s in steps if s.get("p99_ms") is not None and s["p99_ms"] <= 100]
m["highest_passing_step_qps"] = max(passing) if passing else None
m["sustained_p99_ms"] = get(sustained, "p99_ms")
m["sustained_answered_qps"] = get(sustained, "answered_qps")

targets = {
    "b_fresh_p99_ratio": ("<= 2", lambda v: v <= 2), "b_query_p99_ratio": ("<= 2", lambda v: v <= 2),
    "third_p99_ms": ("<= 250 ms", lambda v: v <= 250), "hits_p99_ms": ("<= 50 ms", lambda v: v <= 50),
    "hits_unanswered": ("0", lambda v: v == 0), "burst_unanswered": ("0", lambda v: v == 0),
    "burst_late": ("0", lambda v: v == 0), "recovery_s": ("<= 10 s", lambda v: v <= 10),
}
met = {k: (None if m.get(k) is None else bool(ok(m[k]))) for k, (_, ok) in targets.items()}


def per_second(report, key):
    rows = (report or {}).get("per_second", [])
    return {"x": [row["t"] for row in rows], "y": [row.get(key) for row in rows]}


first = runs[0]["raw"] if runs else {}
charts = [
    {"file": "overload-fairness.png", "title": f"Tenant B alone vs beside A's backlog of {fair_docs} documents (median of {repeats})",
     "y_label": "ms", "labels": ["freshness p50", "freshness p99", "query p99"],
     "series": {"B alone": [m["b_fresh_alone_p50_ms"], m["b_fresh_alone_p99_ms"], m["b_query_alone_p99_ms"]],
                "B beside A's backlog": [m["b_fresh_backlog_p50_ms"], m["b_fresh_backlog_p99_ms"], m["b_query_backlog_p99_ms"]]}},
    {"file": "overload-burst.png", "title": f"Answers to 3 x capacity for {overload_seconds} s, 1 s deadline (median of {repeats})",
     "y_label": "queries", "labels": statuses + ["unanswered", "late", "duplicates"],
     "series": {"answers": [m["burst_by_status"][s] for s in statuses] + [m["burst_unanswered"], m["burst_late"], m["burst_duplicates"]]}},
    {"file": "overload-recovery.png", "type": "line", "title": "Per-second p99 of the burst and of 20 q/s right after it (run 1)",
     "x_label": "second", "y_label": "p99 ms", "series": {"burst (3 x capacity)": per_second(first.get("burst"), "p99_ms"),
                                                          "20 q/s after the burst": per_second(first.get("recovery"), "p99_ms")}},
]
if steps:
    charts.append({"file": "overload-steps.png", "title": "Zipf query p99 per offered rate (run 1, 20 s each)", "y_label": "p99 ms",
                   "labels": [str(rate) for rate, _ in steps], "series": {"p99": [s.get("p99_ms") for _, s in steps]}})
results = {"section": "overload", "repeats": repeats, "fair_docs": fair_docs, "fair_seconds": fair_seconds,
           "overload_seconds": overload_seconds, "targets": {k: t for k, (t, _) in targets.items()}, "met": met,
           "medians": m, "steps": {str(rate): s for rate, s in steps}, "sustained": sustained, "runs": runs, "charts": charts}
json.dump(results, open(os.path.join(out, "overload.json"), "w"), indent=2)


def fmt(v, unit=""):
    digits = 1 if unit else 2
    return "n/a" if v is None else (f"{v:.{digits}f}{unit}" if isinstance(v, float) else f"{v}{unit}")


def verdict(k):
    return "n/a" if met[k] is None else (f"{targets[k][0]}: met" if met[k] else f"{targets[k][0]}: MISSED")


lines = [
    f"# Benchmark: overload control ({repeats} repeat(s), median)",
    "",
    "| figure | value | target |",
    "|---|---|---|",
    f"| F. B's freshness p50 / p99 alone | {fmt(m['b_fresh_alone_p50_ms'], ' ms')} / {fmt(m['b_fresh_alone_p99_ms'], ' ms')} | |",
    f"| F. B's freshness p50 / p99 beside A's {fair_docs} documents | {fmt(m['b_fresh_backlog_p50_ms'], ' ms')} / {fmt(m['b_fresh_backlog_p99_ms'], ' ms')} | |",
    f"| F. B's freshness p99 with A / alone | {fmt(m['b_fresh_p99_ratio'])} | {verdict('b_fresh_p99_ratio')} |",
    f"| F. B's query p99 (5 q/s) alone / with A | {fmt(m['b_query_alone_p99_ms'], ' ms')} / {fmt(m['b_query_backlog_p99_ms'], ' ms')} | |",
    f"| F. B's query p99 with A / alone | {fmt(m['b_query_p99_ratio'])} | {verdict('b_query_p99_ratio')} |",
    f"| F. third tenant's p99 at 20 q/s under A's backlog | {fmt(m['third_p99_ms'], ' ms')} | {verdict('third_p99_ms')} |",
    f"| H. Zipf hits at 1000 q/s: p99 | {fmt(m['hits_p99_ms'], ' ms')} | {verdict('hits_p99_ms')} |",
    f"| H. unanswered / hit ratio / answered q/s | {fmt(m['hits_unanswered'])} / {fmt(m['hit_ratio'])} / {fmt(m['hits_answered_qps'])} | {verdict('hits_unanswered')} |",
    f"| H. highest step with p99 <= 100 ms (run 1); p99 and answered q/s held {overload_seconds} s | "
    f"{fmt(m['highest_passing_step_qps'], ' q/s')}; {fmt(m['sustained_p99_ms'], ' ms')}, {fmt(m['sustained_answered_qps'])} | |",
    f"| O. capacity (ok answers/s, all misses) | {fmt(m['capacity_qps'], ' q/s')} | |",
    f"| O. 3 x capacity for {overload_seconds} s, 1 s deadline: offered; answers per status | {fmt(m['burst_offered'])}; "
    + ", ".join(f"{s} {fmt(v)}" for s, v in m["burst_by_status"].items()) + " | |",
    f"| O. unanswered | {fmt(m['burst_unanswered'])} | {verdict('burst_unanswered')} |",
    f"| O. late (> deadline + 100 ms) / duplicates | {fmt(m['burst_late'])} / {fmt(m['burst_duplicates'])} | {verdict('burst_late')} |",
    f"| O. job heap max during the burst | {fmt(m['burst_heap_max_mib'], ' MiB')} | |",
    f"| O. idle p99 (20 q/s); recovery to 1.2 x it after the burst | {fmt(m['idle_p99_ms'], ' ms')}; {fmt(m['recovery_s'], ' s')} | {verdict('recovery_s')} |",
    "",
    "Per run: " + "; ".join(
        f"#{run['repeat'] + 1}: freshness p99 {fmt(run['b_fresh_alone_p99_ms'])} -> {fmt(run['b_fresh_backlog_p99_ms'])} ms, "
        f"hits p99 {fmt(run['hits_p99_ms'])} ms, capacity {fmt(run['capacity_qps'])} q/s, recovery {fmt(run['recovery_s'])} s"
        for run in runs),
    "",
    "Charts: " + ", ".join(c["file"] for c in charts) + ". Raw figures: overload.json.",
]
text = "\n".join(lines) + "\n"
open(os.path.join(out, "overload.md"), "w").write(text)
if only.strip(",") == "overload":
    open(os.path.join(out, "summary.md"), "w").write(text)
print(text)
