"""PII detection quality and speed: gristmill's ``pii`` step against plain presidio.

1. Quality on presidio-research's synthetic sentences (``synth_dataset_v2.json``, 1,500
   sentences with character-span labels in ``../shared/data/pii/presidio_research``):
   character-level precision and recall per entity type, for gristmill's pattern entities
   (the step's defaults, NER off since no spaCy model is installed) and for presidio's own
   default pattern recognizers (its predefined English registry on the no-op NLP engine,
   with the email recognizer reading tldextract's bundled suffix list instead of the
   network). A predicted character counts when a gold span of the same type covers it.
2. Throughput on real web documents from ``../shared/data``: the dolma CommonCrawl JSONL
   sample, the WET records, and the main text of the WARC HTML pages (gristmill's readers),
   every distinct document once. Naive presidio calls ``AnalyzerEngine.analyze`` on each
   whole document with the same recognizers as the step (stock PhoneRecognizer); gristmill
   runs ``PatternFinder.find`` on batches of 1,024 documents, starting from an empty phone
   verdict caches (a cold worker). Its findings must be identical on every document to
   the reference (presidio on the whole document, plus the written-phone layouts of the
   whole document, less the phone findings that name other numbers:
   :func:`gristmill.pii.analysis.reference_findings`); the time to beat is presidio's
   alone. CPU
   seconds of one process give docs/s and MB/s per core, the fastest of five runs (three for presidio) (wall
   seconds shown too; the machine is shared). Also timed: the whole step (findings plus
   replacement); the second half of the documents after the first half has warmed the
   worker (a worker in a long run has seen far more); the same documents a second time
   (every verdict known: the ceiling); datatrove's ``PIIFormatter`` (email and IP regexes
   only) for orientation, when installed.

3. Phone numbers, span level, on both generated sets (``synth_dataset_v2.json`` and
   ``generated_small.json``): a labelled phone number is recalled when the step's spans
   (after overlaps are merged, as it replaces them) of type PHONE_NUMBER cover it whole;
   span precision is the share of the step's spans (every entity) that overlap a labelled
   span of their own type. Also counted: phone findings in text full of numbers that are
   not phone numbers (:func:`non_phone_numbers`: dates, prices, ISBNs, versions,
   order ids, code, generated here), which should be none.

Ends with ``RESULT speedup_vs_presidio=<x> identical_findings=<0|1> recall_email=<r>
recall_phone=<r> recall_credit_card=<r> precision_pattern=<p> phone_recall=<r>
pii_precision=<p> non_phone_false_positives=<n>``; the speed-up is the cold single pass over
every document against plain presidio (without the written-phone layouts), ``recall_*`` and
``precision_pattern`` are character level on synth_dataset_v2, ``phone_recall`` and
``pii_precision`` span level on both sets together.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from gristmill.io.base import ReaderCounts
from gristmill.io.jsonl import JsonlReader
from gristmill.io.warc import WarcReader
from gristmill.io.wet import WetReader
from gristmill.pii import phone
from gristmill.pii.analysis import Finding, PatternFinder, reference_findings
from gristmill.pii.recognizers import PATTERN_ENTITIES, OfflineEmailRecognizer
from gristmill.pii.replace import resolve_overlaps
from gristmill.pii.step import PiiScrub

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PII_SETS = ("synth_dataset_v2.json", "generated_small.json")
SCORED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")
BATCH = 1024
REPEATS = 5


def web_documents() -> list[str]:
    texts: list[str] = []
    for reader, name, folder in (
        (JsonlReader(), "web", DATA / "web" / "jsonl" / "dolma"),
        (WetReader(), "wet", DATA / "web" / "wet"),
        (WarcReader(), "warc", DATA / "web" / "warc"),
    ):
        for shard in reader.shards(name, [str(folder)]):
            for batch in reader.read(shard, ReaderCounts()):
                texts.extend(batch.column("text").to_pylist())
    return list(dict.fromkeys(text for text in texts if text.strip()))


def presidio_default_engine() -> AnalyzerEngine:
    """presidio's predefined English pattern recognizers, no NLP model, offline email."""
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    for recognizer in list(registry.recognizers):
        if isinstance(recognizer, EmailRecognizer):
            registry.remove_recognizer(recognizer.name)
            registry.add_recognizer(OfflineEmailRecognizer())
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


def character_scores(
    rows: list[dict], predict: Callable[[str], list[Finding]]
) -> tuple[dict[str, tuple[float, float]], float]:
    """Per scored type ``(precision, recall)`` and the precision over all predicted types."""
    predicted: Counter = Counter()
    gold: Counter = Counter()
    correct: Counter = Counter()
    for row in rows:
        truth: dict[int, str] = {}
        for span in row["spans"]:
            for position in range(span["start_position"], span["end_position"]):
                truth[position] = span["entity_type"]
            gold[span["entity_type"]] += span["end_position"] - span["start_position"]
        seen: set[tuple[int, str]] = set()
        for finding in predict(row["full_text"]):
            for position in range(finding.start, finding.end):
                if (position, finding.entity) in seen:
                    continue
                seen.add((position, finding.entity))
                predicted[finding.entity] += 1
                correct[finding.entity] += truth.get(position) == finding.entity
    scores = {
        entity: (
            correct[entity] / predicted[entity] if predicted[entity] else float("nan"),
            correct[entity] / gold[entity] if gold[entity] else float("nan"),
        )
        for entity in SCORED
    }
    overall = sum(correct.values()) / max(sum(predicted.values()), 1)
    return scores, overall


def non_phone_numbers(count: int = 2_000, seed: int = 7) -> list[str]:
    """Sentences full of numbers that are not phone numbers, in the layouts of web text."""
    rng = random.Random(seed)

    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    def date() -> str:
        y, m, d = rng.randint(1900, 2030), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice(
            [
                f"{y}-{m:02d}-{d:02d}",
                f"{d:02d}.{m:02d}.{y}",
                f"{m}/{d}/{y}",
                f"{y}-{m:02d}-{d:02d} "
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
            ]
        )

    def price() -> str:
        amount = rng.randint(1_000, 99_999_999)
        return rng.choice(
            [
                f"${amount:,}.{digits(2)}",
                f"{amount:,}".replace(",", " ") + " €",
                f"{amount:,}".replace(",", ".") + ",00 EUR",
                f"USD {amount / 100:,.2f}",
            ]
        )

    def isbn() -> str:
        return rng.choice(
            [
                f"ISBN 978-{rng.randint(0, 9)}-{digits(3)}-{digits(5)}-{rng.randint(0, 9)}",
                f"ISBN {rng.randint(0, 9)}-{digits(3)}-{digits(5)}-{rng.randint(0, 9)}",
                f"ISBN 978{digits(10)}",
            ]
        )

    def version() -> str:
        parts = [str(rng.randint(0, 40)) for _ in range(rng.randint(2, 4))]
        return rng.choice(["version ", "v", "release ", "Python "]) + ".".join(parts)

    def order_id() -> str:
        return rng.choice(
            [
                f"order #{digits(rng.randint(7, 12))}",
                f"invoice {rng.randint(2000, 2030)}-{digits(6)}",
                f"tracking number 1Z{digits(16)}",
                f"account no. {digits(4)} {digits(4)} {digits(4)}",
                f"customer ID {digits(9)}",
            ]
        )

    def code() -> str:
        return rng.choice(
            [
                f"x = [{', '.join(digits(2) for _ in range(5))}]",
                f"for (i = 0; i < {digits(7)}; i++) buf[i] = {digits(5)} * {digits(3)};",
                f"0x{digits(8)}",
                f"assert hash(v) == {digits(12)}",
                f"port={digits(4)} timeout={digits(6)}",
            ]
        )

    kinds = (date, price, isbn, version, order_id, code)
    sentences = []
    for _ in range(count):
        parts = [rng.choice(kinds)() for _ in range(3)]
        sentences.append(f"On {parts[0]} we saw {parts[1]}; see {parts[2]}.")
    return sentences


def pii_rows(name: str) -> list[dict]:
    return json.loads((DATA / "pii" / "presidio_research" / name).read_text())


def span_scores(rows: list[dict], predict: Callable[[str], list[Finding]]) -> dict[str, float]:
    """Span-level phone recall and precision, and precision over every predicted span."""
    phones = phones_found = predicted = correct = phone_predicted = phone_correct = 0
    for row in rows:
        gold = row["spans"]
        found = resolve_overlaps(predict(row["full_text"]))
        found_phones = [f for f in found if f.entity == "PHONE_NUMBER"]
        for span in gold:
            if span["entity_type"] == "PHONE_NUMBER":
                phones += 1
                phones_found += any(
                    f.start <= span["start_position"] and span["end_position"] <= f.end
                    for f in found_phones
                )
        for finding in found:
            hit = any(
                span["entity_type"] == finding.entity
                and span["start_position"] < finding.end
                and finding.start < span["end_position"]
                for span in gold
            )
            predicted += 1
            correct += hit
            if finding.entity == "PHONE_NUMBER":
                phone_predicted += 1
                phone_correct += hit
    return {
        "phones": phones,
        "phone_recall": phones_found / max(phones, 1),
        "phone_precision": phone_correct / max(phone_predicted, 1),
        "pii_precision": correct / max(predicted, 1),
    }


def phone_quality() -> dict[str, dict[str, float]]:
    """Span scores per generated set and on both, gristmill's default entities against
    presidio's defaults; and gristmill's phone findings in text of non-phone numbers."""
    step = PiiScrub(ner="off")
    finder = PatternFinder(tuple(e for e in step.selected_entities() if e in PATTERN_ENTITIES))
    engine = presidio_default_engine()

    def presidio_predict(text: str) -> list[Finding]:
        results = engine.analyze(text, "en")
        return [
            Finding(r.entity_type, r.start, r.end, r.score)
            for r in results
            if r.entity_type in SCORED
        ]

    rows = {name: pii_rows(name) for name in PII_SETS}
    rows["both"] = [row for name in PII_SETS for row in rows[name]]
    scores = {}
    for name, chosen in rows.items():
        scores[f"gristmill {name}"] = span_scores(chosen, lambda t: finder.find([t])[0])
        scores[f"presidio {name}"] = span_scores(chosen, presidio_predict)
    negatives = non_phone_numbers()
    scores["non_phone_false_positives"] = sum(
        f.entity == "PHONE_NUMBER" for found in finder.find(negatives) for f in found
    )
    presidio_alone = PatternFinder(finder.entities, written_phones=False)
    scores["non_phone_false_positives_presidio"] = sum(
        f.entity == "PHONE_NUMBER" for found in presidio_alone.find(negatives) for f in found
    )
    return scores


def quality() -> tuple[dict, float, dict, float]:
    """Scores of gristmill (all its default pattern findings) and of presidio's defaults
    (their findings of the scored types; they also find dates, URLs, licences...)."""
    rows = pii_rows("synth_dataset_v2.json")
    finder = PatternFinder(
        tuple(e for e in PiiScrub().selected_entities() if e in PATTERN_ENTITIES)
    )
    ours, ours_precision = character_scores(rows, lambda text: finder.find([text])[0])
    engine = presidio_default_engine()

    def presidio_predict(text: str) -> list[Finding]:
        results = engine.analyze(text, "en")
        return [
            Finding(r.entity_type, r.start, r.end, r.score)
            for r in results
            if r.entity_type in SCORED
        ]

    theirs, their_precision = character_scores(rows, presidio_predict)
    return ours, ours_precision, theirs, their_precision


def timed(
    function: Callable[[], object],
    prepare: Callable[[], object] | None = None,
    repeats: int = REPEATS,
) -> tuple[object, float, float]:
    """Result, wall and CPU seconds of the fastest of ``repeats`` runs (the machine is
    shared; ``prepare`` runs untimed before each)."""
    best = (None, float("inf"), float("inf"))
    for _ in range(repeats):
        if prepare is not None:
            prepare()
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        cpu = time.process_time() - cpu
        if cpu < best[2]:
            best = (result, time.perf_counter() - wall, cpu)
    return best


def fast_pass(finder: PatternFinder, texts: list[str]) -> list[list[Finding]]:
    found: list[list[Finding]] = []
    counters: Counter = Counter()
    for start in range(0, len(texts), BATCH):
        found.extend(finder.find(texts[start : start + BATCH], counters))
    return found


def throughput(texts: list[str]) -> dict:
    entities = tuple(e for e in PATTERN_ENTITIES if e != "URL")  # the step's defaults
    finder = PatternFinder(entities)
    presidio_alone = PatternFinder(entities, written_phones=False)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    finder.find(["warm up +1 415 555 2671 jane@example.com"])
    reference_findings(presidio_alone, "warm up +1 415 555 2671 jane@example.com")

    _, naive_wall, naive_cpu = timed(
        lambda: [reference_findings(presidio_alone, t) for t in texts], repeats=3
    )
    fast, fast_wall, fast_cpu = timed(lambda: fast_pass(finder, texts), phone.clear_caches)
    naive = [reference_findings(finder, t) for t in texts]  # presidio + written phones
    identical = fast == naive
    differing = sum(a != b for a, b in zip(fast, naive, strict=True))
    _, warm_wall, warm_cpu = timed(lambda: fast_pass(finder, texts))  # the same documents again

    half = len(texts) // 2

    def warm_on_first_half() -> None:
        phone.clear_caches()
        fast_pass(finder, texts[:half])

    _, naive_half_wall, naive_half_cpu = timed(
        lambda: [reference_findings(presidio_alone, t) for t in texts[half:]], repeats=3
    )
    _, half_wall, half_cpu = timed(lambda: fast_pass(finder, texts[half:]), warm_on_first_half)

    step = PiiScrub(ner="off")
    _, step_wall, step_cpu = timed(
        lambda: [step.scrub(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)],
        phone.clear_caches,
    )
    rows = {
        "presidio per document": (naive_wall, naive_cpu, len(texts), megabytes),
        "gristmill find, cold": (fast_wall, fast_cpu, len(texts), megabytes),
        "gristmill pii step, cold": (step_wall, step_cpu, len(texts), megabytes),
        "gristmill find, same docs again": (warm_wall, warm_cpu, len(texts), megabytes),
        "presidio, 2nd half": (naive_half_wall, naive_half_cpu, len(texts) - half, None),
        "gristmill find, 2nd half warmed": (half_wall, half_cpu, len(texts) - half, None),
    }
    try:
        from datatrove.pipeline.formatters import PIIFormatter

        formatter = PIIFormatter()
        _, dt_wall, dt_cpu = timed(lambda: [formatter.format(t) for t in texts])
        rows["datatrove PIIFormatter (email+IP)"] = (dt_wall, dt_cpu, len(texts), megabytes)
    except ImportError:
        pass
    found = Counter(f.entity for doc in naive for f in doc)
    return {
        "rows": rows,
        "speedup": naive_cpu / fast_cpu,
        "speedup_half": naive_half_cpu / half_cpu,
        "speedup_again": naive_cpu / warm_cpu,
        "identical": identical,
        "differing": differing,
        "found": found,
        "megabytes": megabytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=0, help="at most this many web documents")
    args = parser.parse_args()

    ours, ours_precision, theirs, their_precision = quality()
    print("presidio-research synth_dataset_v2 (1,500 sentences), character level")
    print(f"{'entity':<16}{'gristmill P':>13}{'R':>8}{'presidio P':>13}{'R':>8}")
    for entity in SCORED:
        (p, r), (tp, tr) = ours[entity], theirs[entity]
        print(f"{entity:<16}{p:>13.3f}{r:>8.3f}{tp:>13.3f}{tr:>8.3f}")
    print(f"{'precision, all':<16}{ours_precision:>13.3f}{'':>8}{their_precision:>13.3f}")

    phones = phone_quality()
    print("\nphone numbers and PII spans, span level (presidio-research generated sets)")
    print(f"{'':<36}{'phones':>7}{'recall':>8}{'phone P':>9}{'all P':>7}")
    for name, score in phones.items():
        if isinstance(score, dict):
            print(
                f"{name:<36}{score['phones']:>7}{score['phone_recall']:>8.3f}"
                f"{score['phone_precision']:>9.3f}{score['pii_precision']:>7.3f}"
            )
    print(
        f"phone findings in {len(non_phone_numbers())} sentences of non-phone numbers: "
        f"{phones['non_phone_false_positives']} "
        f"(presidio's phonenumbers matcher alone: {phones['non_phone_false_positives_presidio']})"
    )

    texts = web_documents()
    if args.docs:
        texts = texts[: args.docs]
    result = throughput(texts)
    print(f"\nweb documents: {len(texts)} distinct, {result['megabytes']:.1f} MB")
    print(f"{'':<36}{'wall s':>8}{'cpu s':>8}{'docs/s':>9}{'MB/s':>7}  (per core, on CPU time)")
    for name, (wall, cpu, count, megabytes) in result["rows"].items():
        rate = f"{megabytes / cpu:>7.2f}" if megabytes else f"{'':>7}"
        print(f"{name:<36}{wall:>8.2f}{cpu:>8.2f}{count / cpu:>9.1f}{rate}")
    print(f"findings (presidio): {dict(result['found'])}")
    print(
        f"identical findings: {result['identical']} ({result['differing']} documents differ); "
        f"speed-up cold {result['speedup']:.1f}x, 2nd half warmed by the 1st "
        f"{result['speedup_half']:.1f}x, same documents again {result['speedup_again']:.1f}x"
    )
    print(
        f"RESULT speedup_vs_presidio={result['speedup']:.1f} "
        f"identical_findings={int(result['identical'])} "
        f"recall_email={ours['EMAIL_ADDRESS'][1]:.3f} recall_phone={ours['PHONE_NUMBER'][1]:.3f} "
        f"recall_credit_card={ours['CREDIT_CARD'][1]:.3f} precision_pattern={ours_precision:.3f} "
        f"phone_recall={phones['gristmill both']['phone_recall']:.3f} "
        f"pii_precision={phones['gristmill both']['pii_precision']:.3f} "
        f"non_phone_false_positives={phones['non_phone_false_positives']}"
    )


if __name__ == "__main__":
    main()
