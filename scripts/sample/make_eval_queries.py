"""Build the labelled query set (scripts/sample/eval-queries.jsonl) from the sample corpus.

Why it is built, not hand-written: a labelled set is only as fair as the rules that made it, and a
script states them. It reads corpus.jsonl only (stdlib, no model, no randomness): the same corpus
yields a byte-identical file on any Python 3.8+.

    python3 scripts/sample/make_eval_queries.py [--corpus PATH] [--out PATH]

Each line is {"text": ..., "relevant": ["doc_id", ...], "kind": ...} (the kind is for reading the
set; `scripts/embedstream eval` ignores it). Two families, so that both retrieval legs are tested:

- natural language (kind "paraphrase"): a docstring's first sentence, rewritten by fixed rules
  the way a person would ask (lower case, no punctuation, articles and the grammatical subject
  dropped, the leading verb swapped for a synonym, sometimes "how to" in front or the last
  phrase moved to the front, cut to 12 words), never the sentence verbatim. Documents whose first
  sentence is empty, too short, or shared with another document are skipped. Relevant: the
  document the sentence came from.
- identifiers, as users paste them, each rare in the corpus (a dense model has little to go on):
  - "name": a function, class or method name, distinctive (snake_case or CamelCase, 6+ chars),
    defined by exactly one document and written in at most 3. Relevant: its definer.
  - "qualified": a `module.name` path (e.g. `zipfile.ZipFile.extractall`) whose last part is a
    common word (`close`, `read`), so only the whole path picks the document. Relevant: it.
  - "symbol": an error class or constant named in docstring bodies (`JSONDecodeError`,
    `PARSE_DECLTYPES`), found in 1 to 3 documents. Relevant: every document that names it.
  No more than 2 queries of a kind share the same relevant documents.

Which candidates are kept is decided by a SHA-256 of the kind and key (a fixed, even spread over
the corpus), not by a random generator.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent

# How many of each kind; the identifier kinds may find fewer candidates than asked for.
WANTED = {"paraphrase": 240, "name": 60, "qualified": 50, "symbol": 50}

# An identifier counts as rare when at most this many documents contain it as a word.
MAX_DOCS_WITH_IDENTIFIER = 3
MAX_PER_ANSWER = 2
MIN_QUERY_WORDS = 4
MAX_QUERY_WORDS = 12

ARTICLES = {"a", "an", "the"}

# Leading verb (or subject phrase) -> what a person asking would type instead; "" drops it.
LEADING = [
    (("return", "true", "if"), "check if"),
    (("return", "true", "when"), "check when"),
    (("returns", "true", "if"), "check if"),
    (("this", "module", "provides"), ""),
    (("this", "module", "implements"), ""),
    (("this", "module", "defines"), ""),
    (("this", "class", "implements"), ""),
    (("this", "method", "is", "called"), "hook called"),
    (("this", "function"), ""),
    (("this", "method"), ""),
    (("this", "class"), ""),
    (("this", "module"), ""),
    (("return",), "get"),
    (("returns",), "get"),
    (("create",), "make"),
    (("creates",), "make"),
    (("construct",), "build"),
    (("remove",), "delete"),
    (("removes",), "delete"),
    (("convert",), "turn"),
    (("converts",), "turn"),
    (("compute",), "calculate"),
    (("computes",), "calculate"),
    (("calculate",), "compute"),
    (("get",), "fetch"),
    (("set",), "change"),
    (("sets",), "change"),
    (("raise",), "throw"),
    (("write",), "output"),
    (("read",), "load"),
    (("called",), "hook called"),
    (("decorator",), "decorator for"),
]

PREPOSITIONS = {"in", "from", "for", "of", "to", "on", "with", "into"}

WORD_RE = re.compile(r"[A-Za-z0-9_]+(?:[.'][A-Za-z0-9_]+)*")
SYMBOL_RE = re.compile(r"\b(?:[A-Z][A-Za-z0-9]*(?:Error|Exception|Warning)|[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])\b")


def digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def body_of(text: str) -> str:
    """The docstring under the first line (the qualified name and signature)."""
    return text.split("\n", 1)[1] if "\n" in text else ""


def first_sentence(text: str) -> str:
    paragraph = re.split(r"\n\s*\n", body_of(text).strip(), maxsplit=1)[0]
    flat = " ".join(paragraph.split())
    m = re.match(r"(.+?[.!?])(\s|$)", flat)
    sentence = m.group(1) if m else flat
    # A signature line ("S.find(sub) -> int") or a title underline is not a sentence anyone asks.
    if "->" in sentence or "~~~" in sentence or "===" in sentence or re.match(r"^[\w.]+\(", sentence):
        return ""
    return sentence


def words(sentence: str) -> list[str]:
    return [w.lower() for w in WORD_RE.findall(sentence.replace("*", "").replace("`", ""))]


def paraphrase(sentence: str, key: str) -> str:
    """Fixed rewrites: subject/verb swap, articles out, then one of three word orders by hash."""
    original = words(sentence)
    ws = list(original)
    for lead, replacement in LEADING:
        if tuple(ws[: len(lead)]) == lead:
            ws = replacement.split() + ws[len(lead):]
            break
    ws = [w for w in ws if w not in ARTICLES]
    ws = ws[:MAX_QUERY_WORDS]
    variant = int(digest("variant", key), 16) % 3
    if variant == 1 and ws and ws[0] in {"get", "make", "build", "delete", "turn", "calculate", "compute",
                                        "fetch", "change", "check", "load", "output", "throw"}:
        ws = ["how", "to"] + ws
    elif variant == 2:
        # the last prepositional phrase first: "get size of file in bytes" -> "in bytes get size of file"
        cut = max((i for i, w in enumerate(ws) if w in PREPOSITIONS and 1 < i < len(ws) - 1), default=None)
        if cut is not None:
            ws = ws[cut:] + ws[:cut]
    if ws == original:
        ws = ws[1:]  # never the sentence verbatim: drop its subject
    return " ".join(ws)


def identifier_in(name: str) -> re.Pattern:
    # a word of its own: not part of a longer name or dotted path on either side
    return re.compile(r"(?<![\w.])" + re.escape(name) + r"(?![\w]|\.\w)")


def docs_naming(pattern: re.Pattern, docs: list[dict]) -> list[str]:
    return [d["doc_id"] for d in docs if pattern.search(d["text"])]


def distinctive(name: str) -> bool:
    return len(name) >= 6 and ("_" in name.strip("_") or re.search(r"[a-z][A-Z]", name) is not None)


def paraphrase_queries(docs: list[dict]) -> list[dict]:
    sentences = {d["doc_id"]: first_sentence(d["text"]) for d in docs}
    shared = collections.Counter(" ".join(words(s)) for s in sentences.values() if s)
    out = []
    for d in docs:
        s = sentences[d["doc_id"]]
        if not s or shared[" ".join(words(s))] > 1:
            continue
        q = paraphrase(s, d["doc_id"])
        if len(q.split()) >= MIN_QUERY_WORDS:
            out.append({"text": q, "relevant": [d["doc_id"]], "kind": "paraphrase", "_key": d["doc_id"]})
    # two documents that paraphrase to the same words would make one of them unanswerable
    texts = collections.Counter(q["text"] for q in out)
    return [q for q in out if texts[q["text"]] == 1]


def identifier_queries(docs: list[dict]) -> dict[str, list[dict]]:
    ids = [d["doc_id"][len("py:"):] for d in docs if d["metadata"]["kind"] != "module"]
    last = collections.Counter(i.rsplit(".", 1)[-1] for i in ids)
    names, qualified = [], []
    for qualified_name in ids:
        name = qualified_name.rsplit(".", 1)[-1]
        if last[name] == 1 and distinctive(name):
            found = docs_naming(identifier_in(name), docs)
            if len(found) <= MAX_DOCS_WITH_IDENTIFIER:
                names.append({"text": name, "relevant": ["py:" + qualified_name], "kind": "name", "_key": name})
        elif last[name] > 1 and name.isalpha() and name.islower():
            found = docs_naming(identifier_in(qualified_name), docs)
            if len(found) <= MAX_DOCS_WITH_IDENTIFIER:
                qualified.append({"text": qualified_name, "relevant": ["py:" + qualified_name], "kind": "qualified",
                                  "_key": qualified_name})
    symbols = sorted({m for d in docs for m in SYMBOL_RE.findall(body_of(d["text"]))})
    defined = set(last)
    found_symbols = []
    for symbol in symbols:
        if symbol in defined and last[symbol] == 1 and symbol in {q["text"] for q in names}:
            continue  # already a "name" query
        found = docs_naming(identifier_in(symbol), docs)
        if 1 <= len(found) <= MAX_DOCS_WITH_IDENTIFIER:
            found_symbols.append({"text": symbol, "relevant": sorted(found), "kind": "symbol", "_key": symbol})
    return {"name": names, "qualified": qualified, "symbol": found_symbols}


def pick(candidates: list[dict], kind: str, n: int) -> list[dict]:
    """The first n by hash, at most MAX_PER_ANSWER with the same relevant set (the ssl module names
    dozens of constants: unchecked, one document would answer a fifth of the symbol queries)."""
    chosen, per_answer = [], collections.Counter()
    for q in sorted(candidates, key=lambda q: digest(kind, q["_key"])):
        answer = tuple(q["relevant"])
        if per_answer[answer] < MAX_PER_ANSWER and len(chosen) < n:
            per_answer[answer] += 1
            chosen.append(q)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "corpus.jsonl")
    parser.add_argument("--out", type=Path, default=HERE / "eval-queries.jsonl")
    args = parser.parse_args()
    docs = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = [d for d in docs if d.get("op", "upsert") == "upsert"]
    candidates = {"paraphrase": paraphrase_queries(docs), **identifier_queries(docs)}
    chosen = []
    seen_texts = set()
    for kind, n in WANTED.items():
        for q in pick(candidates[kind], kind, n):
            if q["text"] not in seen_texts:  # one text, one label set
                seen_texts.add(q["text"])
                chosen.append(q)
    lines = [json.dumps({"text": q["text"], "relevant": q["relevant"], "kind": q["kind"]}, ensure_ascii=False)
             for q in chosen]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = collections.Counter(q["kind"] for q in chosen)
    print(f"wrote {len(chosen)} queries to {args.out}: "
          + ", ".join(f"{counts[k]} {k} (of {len(candidates[k])} candidates)" for k in WANTED))


if __name__ == "__main__":
    main()
