"""Build the sample corpus (scripts/sample/corpus.jsonl) from stdlib docstrings.

Why docstrings: they are real, varied technical prose and code, they ship with
every Python install under the permissive PSF licence, and introspection reads
them offline, so building the corpus downloads nothing.

Run with Python 3.11 (other versions produce a different corpus):

    python3.11 scripts/sample/make_corpus.py [--out PATH] [--max-docs N]

Each output line is one upsert event for the pipeline:
    {"doc_id": "py:logging.handlers.RotatingFileHandler", "op": "upsert",
     "text": "<qualified name + signature>\\n<cleaned docstring>",
     "tenant": "default",
     "metadata": {"module": ..., "kind": "module|class|function|method",
                  "source": "python-3.11-stdlib"}}
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import sys
import warnings
from pathlib import Path

SOURCE = "python-3.11-stdlib"
MIN_DOC_CHARS = 80
MAX_DOC_ID_BYTES = 512
DEFAULT_MAX_DOCS = 3000
MAX_FILE_BYTES = 4 * 1024 * 1024

MODULES = [
    "abc", "argparse", "array", "ast", "asyncio", "base64", "bisect", "bz2",
    "calendar", "cmath", "codecs", "collections", "collections.abc",
    "concurrent.futures", "configparser", "contextlib", "contextvars", "copy",
    "csv", "dataclasses", "datetime", "decimal", "difflib", "doctest", "email",
    "email.message", "email.mime.text", "email.utils", "enum", "fnmatch",
    "fractions", "ftplib", "functools", "getopt", "gettext", "glob", "graphlib",
    "gzip", "hashlib", "heapq", "hmac", "html", "html.parser", "http",
    "http.client", "http.cookies", "http.server", "imaplib", "inspect",
    "io", "ipaddress", "itertools", "json", "locale", "logging",
    "logging.config", "logging.handlers", "lzma", "math", "mimetypes",
    "multiprocessing", "numbers", "operator", "os", "os.path", "pathlib",
    "pdb", "pickle", "platform", "pprint", "queue", "random", "re", "sched",
    "secrets", "selectors", "shelve", "shlex", "shutil", "signal", "smtplib",
    "socket", "socketserver", "sqlite3", "ssl", "statistics", "string",
    "struct", "subprocess", "tarfile", "tempfile", "textwrap", "threading",
    "time", "timeit", "tomllib", "traceback", "typing", "unittest",
    "unittest.mock", "urllib.parse", "urllib.request", "uuid", "warnings",
    "weakref", "xml.dom.minidom", "xml.etree.ElementTree", "zipfile", "zlib",
    "zoneinfo",
]

# Objects implemented in C or in a platform module report an implementation
# module (``_struct``, ``posix``, ``posixpath``) rather than the public one;
# this maps them back so e.g. ``struct.pack`` and ``os.path.join`` count as
# belonging to the module users import.
MODULE_ALIASES = {
    "posix": "os", "nt": "os",
    "posixpath": "os.path", "ntpath": "os.path", "genericpath": "os.path",
}

# Default values rendered into signatures may include memory addresses
# (``<object object at 0x7f...>``), which would make the corpus differ per run.
ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")


def public_module(name: str | None) -> str | None:
    if name is None:
        return None
    return MODULE_ALIASES.get(name, name.lstrip("_"))


def signature_of(obj) -> str:
    try:
        sig = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""  # many C builtins have no introspectable signature
    # platform.architecture() defaults to the running interpreter's path.
    sig = sig.replace(repr(sys.executable), "sys.executable")
    return ADDRESS_RE.sub("", sig)


def docstring_of(obj) -> str:
    # obj.__doc__, not inspect.getdoc: getdoc inherits the base class's
    # docstring, which would flood the corpus with copies of the same text.
    doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


def make_record(listed: str, qualname: str, kind: str, obj, sig: str = "") -> dict | None:
    doc = docstring_of(obj)
    if len(doc) < MIN_DOC_CHARS:
        return None
    return {
        "doc_id": f"py:{qualname}",
        "op": "upsert",
        "text": f"{qualname}{sig}\n{doc}",
        "tenant": "default",
        "metadata": {"module": listed, "kind": kind, "source": SOURCE},
    }


def owner_rank(obj, mod, listed: str) -> int | None:
    """0 if obj is defined in this module, 1 if re-exported by this package
    from one of its submodules (asyncio.run lives in asyncio.runners), None
    if it merely passes through (``import os`` inside shutil)."""
    home = public_module(getattr(obj, "__module__", None))
    if home in (listed, mod.__name__):
        return 0
    if home and hasattr(mod, "__path__") and home.startswith(mod.__name__ + "."):
        return 1
    return None


def candidates(listed: str):
    """Yield (priority, doc_id, identity, record) for one module and its
    members; the lowest priority wins when an object is reachable twice."""
    mod = importlib.import_module(listed)
    exported = getattr(mod, "__all__", None)

    def record(qualname: str, kind: str, obj, sig: str = ""):
        return make_record(listed, qualname, kind, obj, sig)

    rec = record(listed, "module", mod)
    if rec:
        yield (0, 0, 0), rec["doc_id"], id(mod), rec

    for name in sorted(vars(mod)):
        if name.startswith("_"):
            continue
        obj = getattr(mod, name)
        # Bound methods (random.randint is Random().randint) are fresh objects
        # on every access; identify them by the underlying function.
        target = getattr(obj, "__func__", obj)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        rank = owner_rank(target, mod, listed)
        if rank is None or (rank == 1 and exported is not None and name not in exported):
            continue
        qual = f"{listed}.{name}"
        # Prefer the defining module, then the object's own name over an
        # alias (array.array over array.ArrayType), then the shorter path
        # (random.randint over random.Random.randint).
        alias = int(getattr(target, "__name__", name) != name)
        prio = (rank, alias, qual.count("."))
        if inspect.isclass(obj):
            rec = record(qual, "class", obj, signature_of(obj))
            if rec:
                yield prio, rec["doc_id"], id(obj), rec
            yield from methods(obj, qual, listed, rank, alias)
        else:
            rec = record(qual, "function", obj, signature_of(obj))
            if rec:
                yield prio, rec["doc_id"], id(target), rec


def methods(cls, cls_qual: str, listed: str, rank: int, alias: int):
    # Only the class's own __dict__: inherited methods are documented where
    # they are defined.
    for name in sorted(vars(cls)):
        if name.startswith("_"):
            continue
        raw = vars(cls)[name]
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        if inspect.isclass(func) or not inspect.isroutine(func):
            continue
        qual = f"{cls_qual}.{name}"
        rec = make_record(listed, qual, "method", func, signature_of(func))
        if rec:
            yield (rank, alias, qual.count(".")), rec["doc_id"], id(func), rec


def thin(docs: list[dict], limit: int) -> list[dict]:
    """Cap the count by taking an evenly spaced subset of the sorted list, so
    every module keeps roughly its share instead of the tail being cut off."""
    if len(docs) <= limit:
        return docs
    step = len(docs) / limit
    return [docs[int(i * step)] for i in range(limit)]


def main() -> None:
    ap = argparse.ArgumentParser(description="Build the stdlib docstring sample corpus.")
    ap.add_argument("--out", default=str(Path(__file__).with_name("corpus.jsonl")))
    ap.add_argument("--max-docs", type=int, default=DEFAULT_MAX_DOCS)
    args = ap.parse_args()

    if sys.version_info[:2] != (3, 11):
        print(f"warning: running on Python {sys.version.split()[0]}; "
              "the corpus is meant to be generated with 3.11", file=sys.stderr)

    found = []
    skipped = []
    # Importing some modules emits DeprecationWarnings; they are irrelevant here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for listed in MODULES:
            try:
                found.extend(candidates(listed))
            except Exception as exc:  # e.g. a build without ssl or sqlite3
                skipped.append(f"{listed} ({type(exc).__name__}: {exc})")

    # The same object can be reachable from several listed modules and the
    # same text can be attached to several objects (aliases, shared C docs).
    # Resolve both by priority (see candidates), then the smaller doc_id, so
    # the outcome does not depend on MODULES order.
    found.sort(key=lambda c: (c[0], c[1]))
    seen_ids, seen_obj, seen_doc = set(), set(), set()
    docs = []
    for _prio, doc_id, ident, rec in found:
        body = rec["text"].split("\n", 1)[1]
        if doc_id in seen_ids or ident in seen_obj or body in seen_doc:
            continue
        if len(doc_id.encode("utf-8")) > MAX_DOC_ID_BYTES or not doc_id.isprintable():
            continue
        seen_ids.add(doc_id)
        seen_obj.add(ident)
        seen_doc.add(body)
        docs.append(rec)

    docs.sort(key=lambda r: r["doc_id"])
    docs = thin(docs, args.max_docs)
    lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in docs]
    while sum(len(x.encode("utf-8")) for x in lines) > MAX_FILE_BYTES:
        docs = thin(docs, int(len(docs) * 0.95))
        lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in docs]

    out = Path(args.out)
    out.write_text("".join(lines), encoding="utf-8")

    kinds = {}
    for r in docs:
        kinds[r["metadata"]["kind"]] = kinds.get(r["metadata"]["kind"], 0) + 1
    long_docs = sum(1 for r in docs if len(r["text"].split()) > 300)
    modules = len({r["metadata"]["module"] for r in docs})
    print(f"wrote {len(docs)} documents from {modules} modules to {out} "
          f"({out.stat().st_size} bytes); kinds={kinds}; over 300 words: {long_docs}")
    for s in skipped:
        print(f"skipped module {s}", file=sys.stderr)


if __name__ == "__main__":
    main()
