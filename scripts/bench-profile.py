#!/usr/bin/env python3
"""Profiles one phase of scripts/bench.sh: from start until SIGTERM it records a JFR recording of the
job JVM (`settings=profile`: Java execution samples and threads sampled in native code) and the CPU
time of every thread of every process on the machine (from /proc, at the start and at the end).
Then it writes OUT.json:

  wall_s, cores, machine_busy_share     from /proc/stat
  processes   CPU-seconds per role: job, Kafka broker, Milvus Lite, Redis, clients (CLI JVMs that
              ran through the phase), bench samplers, other; "exited during the phase" is busy time
              no live process accounts for (a load generator that finished first, for instance)
  job_threads CPU-seconds per job thread group (Java thread names, subtask numbers removed)
  jfr         the most sampled top frames: Java execution samples and native method samples

    scripts/bench-profile.py JOB_PID OUT_PREFIX         (writes OUT_PREFIX.jfr and OUT_PREFIX.json)
    scripts/bench-profile.py --summarise OUT_PREFIX...  (adds the JFR top frames to OUT_PREFIX.json)

OUT_PREFIX.started appears once the recording runs and the first snapshot is taken. Reading a
recording (`jfr print`) costs a JVM of CPU, so it is a separate step, which scripts/bench.sh runs
after the measurements. Standard library plus the JDK's jcmd and jfr ($JAVA_HOME/bin if set).
"""
import collections, json, os, re, signal, subprocess, sys, time

TICK = os.sysconf("SC_CLK_TCK")
JFR_NAME = "bench-profile"


def tool(name):
    home = os.environ.get("JAVA_HOME")
    path = os.path.join(home, "bin", name) if home else ""
    return path if path and os.path.exists(path) else name


def top_frames(recording, event):
    try:
        js = subprocess.run([tool("jfr"), "print", "--json", "--events", event, recording],
                            capture_output=True, text=True, timeout=300).stdout
        events = json.loads(js)["recording"]["events"]
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return {"samples": 0, "top": []}
    frames = collections.Counter()
    for e in events:
        st = (e.get("values", {}).get("stackTrace") or {}).get("frames") or []
        if st:
            m = st[0]["method"]
            frames[f"{m['type']['name'].replace('/', '.')}.{m['name']}"] += 1
    return {"samples": len(events), "top": [{"frame": f, "samples": n} for f, n in frames.most_common(8)]}


if sys.argv[1] == "--summarise":
    for prefix in sys.argv[2:]:
        result = json.load(open(f"{prefix}.json"))
        result["jfr"].update(execution=top_frames(f"{prefix}.jfr", "jdk.ExecutionSample"),
                             native=top_frames(f"{prefix}.jfr", "jdk.NativeMethodSample"))
        json.dump(result, open(f"{prefix}.json", "w"), indent=2)
    sys.exit(0)

pid, prefix = int(sys.argv[1]), sys.argv[2]


def cpu_ticks(stat_path):
    """utime + stime of a /proc stat file (fields 14 and 15; the name in parentheses may hold spaces)."""
    try:
        with open(stat_path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def snapshot():
    procs, threads = {}, {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        ticks = cpu_ticks(f"/proc/{p}/stat")
        if ticks is None:
            continue
        try:
            argv = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace").split("\0")
        except OSError:
            continue
        procs[int(p)] = (ticks, argv)
        if int(p) == pid:
            for t in os.listdir(f"/proc/{p}/task"):
                tt = cpu_ticks(f"/proc/{p}/task/{t}/stat")
                if tt is not None:
                    threads[int(t)] = tt
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    return procs, threads, cpu, time.monotonic()


def role(p, argv):
    """What a process is, from its executable, script or main class: never from option values such
    as an --await-milvus URL, or a classpath that happens to contain a word."""
    if p == pid:
        return "job"
    if "dev.embedstream.jobs.cli.EmbedstreamCli" in argv:
        return "clients (CLI JVMs)"
    if "kafka.Kafka" in argv:
        return "Kafka broker"
    head = [os.path.basename(a) for a in argv[:2]]
    if any(h.startswith("redis-server") for h in head):
        return "Redis"
    if any("milvus" in h for h in head):
        return "Milvus Lite"
    if any(h in ("bench-sample.py", "bench-profile.py") for h in head):
        return "bench samplers"
    return "other"


def jcmd(*args):
    try:
        return subprocess.run([tool("jcmd"), str(pid), *args], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"bench-profile: jcmd {args[0]} failed: {e}", file=sys.stderr)
        return ""


stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
jcmd("JFR.start", f"name={JFR_NAME}", "settings=profile", f"filename={prefix}.jfr")
before = snapshot()
open(f"{prefix}.started", "w").close()
while not stop:
    time.sleep(0.2)
after = snapshot()
names = {int(m.group(2), 16): m.group(1) for m in re.finditer(r'^"(.*?)".*? nid=0x([0-9a-f]+)', jcmd("Thread.print"), re.M)}
jcmd("JFR.stop", f"name={JFR_NAME}")

(p0, t0, c0, w0), (p1, t1, c1, w1) = before, after
wall = w1 - w0
busy_ticks = (sum(c1) - c1[3] - c1[4]) - (sum(c0) - c0[3] - c0[4])  # all but idle and iowait
by_role = collections.Counter()
for p, (ticks, argv) in p1.items():
    by_role[role(p, argv)] += (ticks - p0[p][0] if p in p0 else ticks) / TICK
by_role["exited during the phase"] = max(0.0, busy_ticks / TICK - sum(by_role.values()))
groups = collections.Counter()
for t, ticks in t1.items():
    name = names.get(t, "(no Java name: native or VM thread)")
    name = re.sub(r"\s*\(\d+/\d+\)(#\d+)?", "", name)  # Flink subtask suffix
    name = re.sub(r"[-#\s]*\d+$", "", name)  # pool and compiler thread numbers
    groups[name] += (ticks - t0.get(t, 0)) / TICK

result = {
    "wall_s": round(wall, 2), "cores": os.cpu_count(),
    "machine_busy_share": round(busy_ticks / TICK / (wall * os.cpu_count()), 3) if wall > 0 else None,
    "processes": {k: round(v, 1) for k, v in by_role.most_common()},
    "job_threads": [{"threads": k, "cpu_s": round(v, 1)} for k, v in groups.most_common(10) if v >= 0.05],
    "jfr": {"file": os.path.basename(prefix) + ".jfr", "execution": {"samples": 0, "top": []},
            "native": {"samples": 0, "top": []}},  # filled in by --summarise
}
json.dump(result, open(f"{prefix}.json", "w"), indent=2)
