#!/usr/bin/env python3
"""Samples the job's batching metrics from its Prometheus endpoint once a second until stopped
(SIGTERM), appending one JSON line per sample to OUT: the time and, for embed-documents summed
over subtasks, the counters batches, textsEmbedded, batchTokensPadded, batchTokensReal,
modelMillisTotal and the gauges documentLaneDepth and batchTokenTarget (mean). scripts/bench-report.py
turns consecutive samples into batch size, padding and model busy share per second.

    scripts/bench-sample.py METRICS_URL OUT.jsonl
"""
import json, re, signal, sys, time, urllib.request

url, out = sys.argv[1], sys.argv[2]
NAMES = ("batches", "textsEmbedded", "batchTokensPadded", "batchTokensReal", "modelMillisTotal",
         "documentLaneDepth", "batchTokenTarget")
LINE = re.compile(r'^\S+_embedstream_(\w+)\{([^}]*)\} (\S+)$')
running = True
signal.signal(signal.SIGTERM, lambda *_: globals().update(running=False))
start = time.monotonic()
with open(out, "a", encoding="utf-8") as f:
    while running:
        try:
            page = urllib.request.urlopen(url, timeout=2).read().decode()
        except OSError:
            time.sleep(1)
            continue
        sums, counts = {}, {}
        for line in page.splitlines():
            m = LINE.match(line)
            if m and m.group(1) in NAMES and 'operator_name="embed_documents"' in m.group(2):
                sums[m.group(1)] = sums.get(m.group(1), 0.0) + float(m.group(3))
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
        for g in ("batchTokenTarget",):
            if counts.get(g):
                sums[g] /= counts[g]
        f.write(json.dumps(dict(sums, t=round(time.monotonic() - start, 3))) + "\n")
        f.flush()
        time.sleep(max(0.0, 1.0 - (time.monotonic() - start) % 1.0))
