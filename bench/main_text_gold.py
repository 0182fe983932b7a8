"""Gold sets for main-text extraction and how an extractor is scored on them.

Two gold sets, so that no choice is tuned to one kind of page:

- ``warc``: HTML pages of ``../shared/data/web/warc`` (home pages, profiles, listings,
  forums, shops, blog posts, wiki articles, FAQs; several languages), labelled by hand in
  ``bench/main_text_gold_warc.json``: snippets the main text must contain (``with``) and
  boilerplate snippets it must not (``without``: menus, footers, cookie and comment widgets,
  related links).
- ``scrapinghub``: the 181 article pages of the scrapinghub article-extraction benchmark
  (``../shared/data/web/html_extraction/scrapinghub_aeb``) with their gold ``articleBody``.
  Snippets are derived from it: ``with`` = the first 60 characters of up to four gold lines
  (first, last, two between; lines of 40+ characters), ``without`` = up to four lines of the
  page's whole visible text (resiliparse without main-content heuristics; 20+ characters)
  that share no 4-word shingle with the gold body and are not the page title.

The snippet measure is the one of trafilatura's evaluation (Barbaresi, ACL 2021) and of
issue 19: a ``with`` snippet found is a true positive, missed a false negative; a
``without`` snippet found is a false positive. Precision, recall and F1 are taken over all
snippets of a set (whitespace-normalised substring tests). The scrapinghub benchmark's own
score (its ``evaluate.py``: 4-word shingles, per-page normalised counts, precision and recall
averaged over pages) is :func:`shingle_f1`.

Run as a script, it loads both sets and scores the default extractor on them; ends with
``RESULT warc_pages=<n> scrapinghub_pages=<n> f1_default_warc=<f> f1_default_scrapinghub=<f>``.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import PrivateAttr
from resiliparse.extract.html2text import extract_plain_text

from gristmill.io.base import ReaderCounts
from gristmill.io.html import Extraction, decode_html
from gristmill.io.warc import WarcReader

WARC_GOLD = Path(__file__).with_name("main_text_gold_warc.json")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(slots=True)
class GoldPage:
    """One page of a gold set: its HTML and what its main text must and must not hold."""

    name: str
    html: str
    with_snippets: list[str]
    without_snippets: list[str]
    kind: str = "article"
    gold_text: str | None = None  # the whole gold main text, where the set has it


@dataclass(slots=True)
class SnippetScore:
    """Counts of the snippet measure over a set of pages."""

    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0
    true_negatives: int = 0
    missed: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)

    def add(self, page: GoldPage, text: str) -> None:
        found = normalise(text)
        for snippet in page.with_snippets:
            if normalise(snippet) in found:
                self.true_positives += 1
            else:
                self.false_negatives += 1
                self.missed.append(f"{page.name}: {snippet}")
        for snippet in page.without_snippets:
            if normalise(snippet) in found:
                self.false_positives += 1
                self.leaked.append(f"{page.name}: {snippet}")
            else:
                self.true_negatives += 1

    @property
    def precision(self) -> float:
        kept = self.true_positives + self.false_positives
        return self.true_positives / kept if kept else 0.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def snippet_score(pages: Iterable[GoldPage], texts: Iterable[str]) -> SnippetScore:
    score = SnippetScore()
    for page, text in zip(pages, texts, strict=True):
        score.add(page, text)
    return score


# -- the WARC gold set ---------------------------------------------------------------------
class _HtmlCollector(WarcReader):
    """A WARC reader that keeps each page's decoded HTML instead of extracting it."""

    _pages: list[str] = PrivateAttr(default_factory=list)

    def extract(self, html: str) -> Extraction:
        self._pages.append(html)
        return Extraction(f"page {len(self._pages) - 1}", "none", 0)


def warc_pages(warc_root: Path, gold_path: Path = WARC_GOLD) -> list[GoldPage]:
    """The hand-labelled pages, their HTML read from the WARC files by gristmill's reader."""
    gold = json.loads(gold_path.read_text(encoding="utf-8"))["pages"]
    wanted = {(entry["file"], entry["url"], entry["record_id"]): entry for entry in gold}
    found: dict[tuple, str] = {}
    collector = _HtmlCollector()
    for file in sorted({entry["file"] for entry in gold}):
        for shard in collector.shards("web", [str(warc_root / file)]):
            for batch in collector.read(shard, ReaderCounts()):
                for row in batch.to_pylist():
                    meta = json.loads(row["meta"])
                    key = (file, row["url"], meta.get("warc_record_id"))
                    if key in wanted and key not in found:
                        found[key] = collector._pages[int(row["text"].split()[1])]
    missing = [key for key in wanted if key not in found]
    if missing:
        raise ValueError(f"{gold_path}: pages not found under {warc_root}: {missing}")
    return [
        GoldPage(
            name=f"{entry['file']} {entry['url']}",
            html=found[key],
            with_snippets=entry["with"],
            without_snippets=entry["without"],
            kind=entry["page"],
        )
        for key, entry in wanted.items()
    ]


# -- the scrapinghub gold set --------------------------------------------------------------
def scrapinghub_pages(root: Path) -> list[GoldPage]:
    """The benchmark's pages with their gold body and snippets derived from it."""
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        html = decode_html(gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()))[0]
        gold = truth[key]["articleBody"]
        with_snippets, without_snippets = derive_snippets(gold, html)
        pages.append(GoldPage(key, html, with_snippets, without_snippets, "article", gold))
    return pages


def _spread(items: list[str], count: int = 4) -> list[str]:
    """Up to ``count`` items: the first, the last and evenly between."""
    if not items:
        return []
    picks = sorted({round(i * (len(items) - 1) / (count - 1)) for i in range(count)})
    return [items[i] for i in picks]


def derive_snippets(gold: str, html: str) -> tuple[list[str], list[str]]:
    full = normalise(extract_plain_text(html, main_content=False))
    gold_lines = [normalise(line) for line in gold.splitlines() if len(line.strip()) >= 40]
    with_snippets = [line[:60] for line in _spread(gold_lines) if line[:60] in full]
    gold_words = _WORD.findall(gold)
    gold_shingles = {tuple(gold_words[i : i + 4]) for i in range(len(gold_words) - 3)}
    gold_flat = normalise(gold)
    title_match = _TITLE.search(html)
    title = set(_WORD.findall(title_match.group(1).lower())) if title_match else set()
    candidates = []
    for raw in extract_plain_text(html, main_content=False).splitlines():
        line = normalise(raw)
        if len(line) < 20 or line[:60] in gold_flat:
            continue
        words = _WORD.findall(line)
        if any(tuple(words[i : i + 4]) in gold_shingles for i in range(max(1, len(words) - 3))):
            continue
        lower = set(_WORD.findall(line.lower()))
        if title and len(lower & title) >= 0.5 * len(lower):
            continue
        candidates.append(line[:60])
    return with_snippets, _spread(candidates)


def _shingles(text: str, n: int = 4) -> Counter:
    tokens = _WORD.findall(text or "")
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


def shingle_f1(gold_texts: Iterable[str], texts: Iterable[str]) -> float:
    """The scrapinghub benchmark's F1 (its ``evaluate.py``): per page, the true and false
    positives and false negatives over 4-word shingles are normalised to sum to one;
    precision and recall are averaged over pages; F1 is taken of the averages."""
    precisions, recalls = [], []
    for gold, text in zip(gold_texts, texts, strict=True):
        expected, found = _shingles(gold), _shingles(text)
        tp = sum((expected & found).values())
        fp = sum((found - expected).values())
        fn = sum((expected - found).values())
        total = tp + fp + fn
        tp, fp, fn = (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn))
    precision, recall = statistics.mean(precisions), statistics.mean(recalls)
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    """Load both gold sets and score gristmill's default extractor on them (the full
    comparison of extractors, with speed, is ``bench/readers.py``)."""
    from gristmill.io.html import DEFAULT_EXTRACTOR, extract_text

    web = Path(__file__).resolve().parents[2] / "shared" / "data" / "web"
    gold_sets = {
        "warc": warc_pages(web / "warc"),
        "scrapinghub": scrapinghub_pages(web / "html_extraction" / "scrapinghub_aeb"),
    }
    scores = {}
    for name, pages in gold_sets.items():
        with_count = sum(len(page.with_snippets) for page in pages)
        without_count = sum(len(page.without_snippets) for page in pages)
        scores[name] = snippet_score(pages, [extract_text(p.html, DEFAULT_EXTRACTOR) for p in pages])
        print(f"{name}: {len(pages)} pages, {with_count} 'with' and {without_count} 'without' "
              f"snippets; {DEFAULT_EXTRACTOR} P {scores[name].precision:.3f} "
              f"R {scores[name].recall:.3f} F1 {scores[name].f1:.3f}")  # fmt: skip
    print(f"RESULT warc_pages={len(gold_sets['warc'])} "
          f"scrapinghub_pages={len(gold_sets['scrapinghub'])} "
          f"f1_default_warc={scores['warc'].f1:.3f} "
          f"f1_default_scrapinghub={scores['scrapinghub'].f1:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
