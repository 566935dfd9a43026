#!/usr/bin/env python3
"""Evaluates every PromQL expression of the shipped dashboards and alert rules through a real
Prometheus and fails on any expression that errors or returns no series (a wrong metric or label
name). Python 3.11 standard library only.

    scripts/check-promql.py --prometheus http://127.0.0.1:9090 [--wait 60]
    scripts/check-promql.py --list            # print the expressions, evaluate nothing

Where the expressions come from:
  * docker/grafana/dashboards/*.json: every panel target's `expr` (rows' nested panels too).
    Grafana's interval variables ($__rate_interval, $__interval, $__range, ...) are replaced by
    --rate-interval (default 1m). The dashboards are also linted: every panel has a title, a unit
    and the {"type": "prometheus", "uid": "prometheus"} datasource.
  * docker/prometheus/alerts.yml: every rule's `expr:`, which must stay on ONE line (the file is
    read line by line; no YAML library needed). An alert only returns series when it fires, so
    what is evaluated is, by default, each operand of a top-level `and` / `or` / `unless` with its
    trailing threshold comparison removed:
        A > 1000 and on (x) B > 0    ->  A   and   B
    A `# check: <expr>` comment on the line(s) right above `expr:` replaces that, e.g. for
    `absent(...)`, which has no series when all is well. The operands joined again by their
    operators (A and on (x) B) are evaluated too, so a label mismatch between them also fails.

A series whose value is 0 or NaN (rate() over a quiet system) counts: only "no series" fails.
Exit status: 0 all returned series and the files are well-formed; 1 otherwise (all listed).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
GRAFANA_VARS = re.compile(r"\$\{?__(rate_interval|interval|range)(_ms|_s)?\}?")
SET_OPS = ("and", "or", "unless")
COMPARISON = re.compile(
    r"(==|!=|>=|<=|>|<)\s*(bool\s+)?[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


class Check:
    def __init__(self, source: str, expr: str, original: str | None = None, joined=False):
        self.source, self.expr, self.original, self.joined = source, expr, original, joined
        self.error: str | None = None
        self.series = 0


# --- PromQL text helpers ---------------------------------------------------------------------

def top_level_positions(expr: str):
    """Yields (index, char) for characters outside (), [], {} and string literals."""
    depth, quote, i = 0, None, 0
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            yield i, c
        i += 1


def split_set_operations(expr: str) -> tuple[list[str], list[str]]:
    """Splits `A and on (x) B or C` at its top-level set operators: ([A, B, C], ["and on (x)",
    "or"])."""
    top = dict(top_level_positions(expr))
    operands, operators, start = [], [], 0
    for m in re.finditer(r"\b(and|or|unless)\b", expr):
        if m.start() not in top or m.end() - 1 not in top or m.start() < start:
            continue
        operands.append(expr[start:m.start()].strip())
        operator, rest = m.group(1), expr[m.end():]
        # A vector-matching modifier after the operator belongs to the operator, not the operand.
        mod = re.match(r"\s*(on|ignoring)\s*\([^)]*\)", rest)
        if mod:
            operator += " " + mod.group(0).strip()
        operators.append(operator)
        start = m.end() + (mod.end() if mod else 0)
    operands.append(expr[start:].strip())
    return operands, operators


def strip_threshold(expr: str) -> str:
    """Removes a trailing top-level `> 250` / `== 0` / `>= bool 3` comparison, if any."""
    m = COMPARISON.search(expr)
    if not m:
        return expr.strip()
    top = dict(top_level_positions(expr))
    if m.start() not in top:
        return expr.strip()
    return expr[:m.start()].strip()


def checks_for_alert(name: str, expr: str, overrides: list[str]) -> list[Check]:
    """Each operand of a top-level set operation without its threshold, then (if there are
    several) the operands joined again: that one is empty when their labels do not match."""
    source = f"alerts.yml: {name}"
    if overrides:
        return [Check(source + " (# check)", e, expr) for e in overrides]
    operands, operators = split_set_operations(expr)
    stripped = [strip_threshold(p) for p in operands]
    checks = [Check(source, p, expr) for p in stripped if p]
    if len(stripped) > 1:
        joined = stripped[0]
        for operator, operand in zip(operators, stripped[1:]):
            joined += f" {operator} {operand}"
        checks.append(Check(source + " (operands joined)", joined, expr, joined=True))
    return checks


# --- sources ---------------------------------------------------------------------------------

def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def dashboard_checks(directory: pathlib.Path, rate_interval: str, problems: list[str]):
    checks = []
    files = sorted(directory.glob("*.json"))
    if not files:
        problems.append(f"{directory}: no dashboards")
    for f in files:
        try:
            board = json.loads(f.read_text())
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{f.name}: {e}")
            continue
        for panel in walk_panels(board.get("panels", [])):
            if panel.get("type") == "row":
                if not panel.get("title"):
                    problems.append(f"{f.name}: row without a title")
                continue
            title = panel.get("title") or ""
            where = f"{f.name}: {title or '<untitled panel ' + str(panel.get('id')) + '>'}"
            if not title:
                problems.append(f"{where}: panel without a title")
            if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
                problems.append(f"{where}: panel without a unit")
            if panel.get("datasource") != DATASOURCE:
                problems.append(f"{where}: datasource is not {json.dumps(DATASOURCE)}")
            targets = panel.get("targets") or []
            if not targets:
                problems.append(f"{where}: panel without queries")
            for t in targets:
                expr = (t.get("expr") or "").strip()
                if not expr:
                    problems.append(f"{where} [{t.get('refId')}]: target without expr")
                    continue
                checks.append(Check(f"{where} [{t.get('refId')}]",
                                    GRAFANA_VARS.sub(rate_interval, expr), expr))
    return checks


def yaml_scalar(text: str) -> str:
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return json.loads(text)
    return re.sub(r"\s+#.*$", "", text)  # a plain scalar may end with a comment


def rule_checks(path: pathlib.Path, problems: list[str]):
    checks, name, pending_overrides = [], None, []
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        problems.append(f"{path}: {e}")
        return checks
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        m = re.match(r"-?\s*(alert|record):\s*(.+)$", stripped)
        if m:
            name, pending_overrides = yaml_scalar(m.group(2)), []
            continue
        m = re.match(r"#\s*check:\s*(.+)$", stripped)
        if m:
            pending_overrides.append(m.group(1).strip())
            continue
        m = re.match(r"expr:\s*(.*)$", stripped)
        if m:
            value = m.group(1).strip()
            if not value or value[0] in "|>":
                problems.append(f"{path.name}:{number}: keep `expr:` on one line (found a block "
                                f"scalar) so this checker can read it")
            else:
                checks += checks_for_alert(name or f"line {number}", yaml_scalar(value),
                                           pending_overrides)
            pending_overrides = []
            continue
        if stripped and not stripped.startswith("#"):
            pending_overrides = []  # a `# check:` must sit right above its `expr:`
    if not checks:
        problems.append(f"{path}: no rule expressions found")
    return checks


# --- evaluation ------------------------------------------------------------------------------

def evaluate(prometheus: str, check: Check, timeout: float):
    url = prometheus.rstrip("/") + "/api/v1/query"
    data = urllib.parse.urlencode({"query": check.expr}).encode()
    check.error, check.series = None, 0
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as r:
            body = json.load(r)
    except urllib.error.HTTPError as e:  # 400/422: bad expression; the body says why
        try:
            body = json.load(e)
        except (json.JSONDecodeError, ValueError):
            check.error = f"HTTP {e.code}"
            return
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as e:
        check.error = f"request failed: {e}"
        return
    if body.get("status") != "success":
        check.error = f"{body.get('errorType', 'error')}: {body.get('error', body)}"
        return
    result = body["data"]["result"]
    if body["data"]["resultType"] in ("scalar", "string"):
        check.series = 1
    else:
        check.series = len(result)
    if not check.series:
        check.error = ("no series: the operands return series but their labels do not match"
                       if check.joined else "no series (wrong metric or label name?)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prometheus", help="base URL of the Prometheus HTTP API, "
                                         "e.g. http://127.0.0.1:9090")
    ap.add_argument("--dashboards", type=pathlib.Path,
                    default=ROOT / "docker/grafana/dashboards")
    ap.add_argument("--rules", type=pathlib.Path, default=ROOT / "docker/prometheus/alerts.yml")
    ap.add_argument("--rate-interval", default="1m",
                    help="value for $__rate_interval / $__interval / $__range (default 1m)")
    ap.add_argument("--wait", type=float, default=0,
                    help="retry failing expressions for up to this many seconds (a fresh "
                         "Prometheus needs two scrapes before rate() has a value)")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--list", action="store_true", help="print the expressions and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every result")
    args = ap.parse_args()

    problems: list[str] = []
    checks = dashboard_checks(args.dashboards, args.rate_interval, problems)
    checks += rule_checks(args.rules, problems)
    if args.list:
        for c in checks:
            print(f"{c.source}\n    {c.expr}")
        for p in problems:
            print("PROBLEM", p)
        return 1 if problems else 0
    if not args.prometheus:
        ap.error("--prometheus is required (or --list)")

    deadline = time.monotonic() + args.wait
    todo = list(checks)
    while True:
        for c in todo:
            evaluate(args.prometheus, c, args.timeout)
        todo = [c for c in todo if c.error]
        if not todo or time.monotonic() >= deadline:
            break
        time.sleep(2)

    failed = [c for c in checks if c.error]
    for c in checks:
        if args.verbose or c.error:
            status = "FAIL" if c.error else "ok  "
            detail = c.error if c.error else f"{c.series} series"
            print(f"{status} {c.source}: {detail}\n     {c.expr}")
    print(f"{len(checks) - len(failed)} of {len(checks)} expressions returned series "
          f"({len({c.source.split(':')[0] for c in checks})} files)")
    if failed:
        print(f"{len(failed)} FAILED:", file=sys.stderr)
        for c in failed:
            print(f"  {c.source}: {c.error}\n      {c.expr}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} PROBLEMS in the files:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
    return 1 if failed or problems or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
