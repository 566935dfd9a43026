"""Document freshness of one tenant: publish one new document per second and time until it is searchable.

Usage (the Milvus venv's python): bench-overload-fresh.py BOOTSTRAP TOPIC MILVUS_URI COLLECTION TENANT DOCS.jsonl SECONDS OUT.json KAFKA_HOME

Documents go through one long-lived Kafka console producer (a JVM per document would cost a core of
this machine each second), keyed <tenant>:<doc_id> like `embedstream ingest`. Milvus is polled every
100 ms for the doc_ids still pending (Strong consistency, through the alias); freshness = the first
poll that sees the document - the moment its line was handed to the producer. A document not seen
within 120 s after the last publish counts as missing.
"""
import json, os, subprocess, sys, time
from pymilvus import MilvusClient

bootstrap, topic, uri, collection, tenant, docs_file, seconds, out, kafka = sys.argv[1:10]
seconds = int(seconds)
docs = [json.loads(l) for l in open(docs_file, encoding="utf-8") if l.strip()][:seconds]
java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
producer = subprocess.Popen(
    [java, "-Xmx256m", "-XX:TieredStopAtLevel=1", f"-Dlog4j2.configurationFile={kafka}/config/tools-log4j2.properties",
     "-cp", f"{kafka}/libs/*", "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", bootstrap, "--topic", topic,
     "--property", "parse.key=true", "--property", "key.separator=\t", "--timeout", "1", "--producer-property", "linger.ms=0"],
    stdin=subprocess.PIPE, text=True)
time.sleep(3)  # the producer's JVM starts and fetches metadata before the first timed document
client = MilvusClient(uri=uri, timeout=10)
published, seen = {}, {}
start = time.time()
i = 0
while True:
    now = time.time()
    if i < len(docs) and now >= start + i:
        d = dict(docs[i], tenant=tenant)
        producer.stdin.write(f"{tenant}:{d['doc_id']}\t{json.dumps(d, ensure_ascii=False)}\n")
        producer.stdin.flush()
        published[d["doc_id"]] = time.time()
        i += 1
    pending = [k for k in published if k not in seen]
    if pending:
        ids = ", ".join(json.dumps(k) for k in pending)
        try:
            rows = client.query(collection, filter=f"doc_id in [{ids}]", output_fields=["doc_id"], consistency_level="Strong")
        except Exception as e:  # the collection may not exist yet
            rows = []
        t = time.time()
        for r in rows:
            seen.setdefault(r["doc_id"], t)
    if i >= len(docs) and (len(seen) == len(published) or time.time() > start + len(docs) + 120):
        break
    time.sleep(0.1)
producer.stdin.close()
producer.wait(timeout=30)
fresh = sorted((seen[k] - published[k]) * 1000 for k in seen)
def pct(p):
    return round(fresh[max(0, min(len(fresh) - 1, -(-len(fresh) * p // 100) - 1))], 1) if fresh else None
json.dump({"tenant": tenant, "published": len(published), "seen": len(seen), "missing": len(published) - len(seen),
           "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": round(fresh[-1], 1) if fresh else None,
           "freshness_ms": [round(f, 1) for f in fresh]}, open(out, "w"), indent=1)
