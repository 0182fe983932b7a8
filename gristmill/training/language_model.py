"""Train the reference language models of the perplexity filter, the way CCNet did.

CCNet (Wenzek et al. 2020, §3.3) trained, per language, a SentencePiece model (Kudo &
Richardson 2018) and a 5-gram KenLM model on Wikipedia, both over the normalised text of
:mod:`gristmill.filters.lm_normalize`. Here the reference text is any source of a
pipeline: the lines are normalised, a SentencePiece unigram model is trained on them,
the lines are cut into pieces and KenLM's ``lmplz -o 5`` estimates the modified
Kneser–Ney model, which ``build_binary`` turns into ``<lang>.arpa.bin``. The KenLM tools
are found in ``tools_dir``, ``$GRISTMILL_KENLM_BIN``, ``.tools/kenlm/bin`` (what
``scripts/build_kenlm_tools.sh`` builds) or on ``PATH``; without ``lmplz`` the built-in
estimator (:mod:`gristmill.training.kneser_ney`) writes the ARPA file instead, and without
``build_binary`` the ARPA file is used as it is (KenLM loads both).
:func:`perplexity_cutoffs` computes CCNet's bucket cut-offs: percentiles of the
perplexity of the data to be filtered.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from gristmill.filters.lm_normalize import normalize_batch
from gristmill.filters.model_files import sha256_of
from gristmill.filters.perplexity import CUTOFFS_FILE, piece_lines, score_texts
from gristmill.training.kneser_ney import BOS, EOS, UNK, estimate

TOOLS_ENV = "GRISTMILL_KENLM_BIN"
DEFAULT_TOOLS_DIR = Path(".tools") / "kenlm" / "bin"
Estimator = Literal["auto", "lmplz", "builtin"]
_RESERVED = {BOS, EOS, UNK}


class LanguageModelTrainingError(RuntimeError):
    """A step of language-model training failed (the message names the tool and its output)."""


@dataclass
class TrainedLanguageModel:
    """What ``train_language_model`` wrote, as recorded in ``<lang>.lm.json``."""

    language: str
    model: str
    tokenizer: str
    estimator: str
    order: int
    documents: int
    lines: int
    tokens: int
    vocab_size: int
    sha256: dict[str, str] = field(default_factory=dict)


def find_kenlm_tool(name: str, tools_dir: str | os.PathLike[str] | None = None) -> str | None:
    """Path of a KenLM executable (lmplz, build_binary, query), or None when not found."""
    folders = [tools_dir, os.environ.get(TOOLS_ENV), DEFAULT_TOOLS_DIR]
    folders.append(Path(__file__).resolve().parents[2] / DEFAULT_TOOLS_DIR)  # a source checkout
    for folder in folders:
        if folder:
            candidate = Path(folder) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
    return shutil.which(name)


def _lines_of(texts: list[str]) -> Iterable[str]:
    for text in normalize_batch(texts):
        for line in text.split("\n"):
            line = line.strip()
            if line:
                yield line


def train_language_model(
    texts: Iterable[str],
    output_dir: str | os.PathLike[str],
    language: str = "en",
    order: int = 5,
    vocab_size: int = 65536,
    estimator: Estimator = "auto",
    tools_dir: str | os.PathLike[str] | None = None,
    memory: str = "25%",
    threads: int = 1,
    discount_fallback: bool = True,
) -> TrainedLanguageModel:
    """Train ``<lang>.sp.model`` and ``<lang>.arpa.bin`` (or ``.arpa``) into ``output_dir``."""
    output = Path(output_dir)
    output.mkdir(parents=True, exist_ok=True)
    lmplz = find_kenlm_tool("lmplz", tools_dir)
    if estimator == "lmplz" and lmplz is None:
        raise LanguageModelTrainingError(
            "lmplz not found: build it with scripts/build_kenlm_tools.sh (make kenlm-tools), "
            f"set ${TOOLS_ENV}, or use --estimator builtin"
        )
    use_lmplz = estimator != "builtin" and lmplz is not None
    with tempfile.TemporaryDirectory(prefix="gristmill-lm-") as work_dir:
        work = Path(work_dir)
        text_file = work / "normalized.txt"
        documents = 0
        lines = 0
        with text_file.open("w", encoding="utf-8") as handle:
            for batch in _batched(texts, 256):
                documents += len(batch)
                for line in _lines_of(batch):
                    handle.write(line + "\n")
                    lines += 1
        if lines == 0:
            raise LanguageModelTrainingError("the reference text has no non-empty line")
        tokenizer_path = train_tokenizer(text_file, output / f"{language}.sp", vocab_size, threads)
        pieces_file = work / "pieces.txt"
        tokens = write_pieces(text_file, tokenizer_path, pieces_file)
        arpa = work / f"{language}.arpa"
        if use_lmplz:
            assert lmplz is not None
            _run_lmplz(lmplz, pieces_file, arpa, order, memory, work, discount_fallback)
        else:
            with pieces_file.open(encoding="utf-8") as handle:
                estimate(
                    (line.split() for line in handle),
                    order=order,
                    discount_fallback=discount_fallback,
                ).write_arpa(arpa)
        model_path = _binarize(arpa, output, language, tools_dir)
    import sentencepiece

    trained = TrainedLanguageModel(
        language=language,
        model=str(model_path),
        tokenizer=str(tokenizer_path),
        estimator="lmplz" if use_lmplz else "builtin",
        order=order,
        documents=documents,
        lines=lines,
        tokens=tokens,
        vocab_size=sentencepiece.SentencePieceProcessor(
            model_file=str(tokenizer_path)
        ).vocab_size(),
        sha256={Path(p).name: sha256_of(p) for p in (model_path, tokenizer_path)},
    )
    (output / f"{language}.lm.json").write_text(
        json.dumps(asdict(trained), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return trained


def _batched(texts: Iterable[str], size: int) -> Iterable[list[str]]:
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def train_tokenizer(
    text_file: Path, prefix: Path, vocab_size: int, threads: int = 1, seed: int = 0
) -> Path:
    """A SentencePiece unigram model on the normalised lines (``<prefix>.model``).

    ``hard_vocab_limit`` is off so that a small reference text gives a smaller vocabulary
    instead of an error; the sampling seed is fixed so that a rerun gives the same model.
    """
    import sentencepiece

    sentencepiece.set_random_generator_seed(seed)
    sentencepiece.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=0.9999,
        hard_vocab_limit=False,
        input_sentence_size=2_000_000,
        shuffle_input_sentence=True,
        num_threads=threads,
        minloglevel=2,
    )
    Path(f"{prefix}.vocab").unlink(missing_ok=True)
    return Path(f"{prefix}.model")


def write_pieces(text_file: Path, tokenizer_path: Path, out_file: Path, batch: int = 4096) -> int:
    """Write each line as space-separated SentencePiece pieces (exactly as the perplexity
    filter cuts them); returns the piece count. KenLM's reserved ``<s>``, ``</s>`` and
    ``<unk>`` are left out of the training text, as ``lmplz --skip_symbols`` does."""
    count = 0
    with text_file.open(encoding="utf-8") as source, out_file.open("w", encoding="utf-8") as out:
        for chunk in _batched((line.rstrip("\n") for line in source), batch):
            for pieces, _ in piece_lines(chunk, str(tokenizer_path)):
                kept = [p for p in pieces.split(" ") if p and p not in _RESERVED]
                count += len(kept)
                out.write(" ".join(kept) + "\n")
    return count


def _run_lmplz(
    lmplz: str,
    text: Path,
    arpa: Path,
    order: int,
    memory: str,
    temp: Path,
    discount_fallback: bool,
) -> None:
    command = [
        lmplz,
        "-o",
        str(order),
        "-S",
        memory,
        "-T",
        str(temp) + "/",
        "--text",
        str(text),
        "--arpa",
        str(arpa),
        "--skip_symbols",
    ]
    if discount_fallback:
        command.append("--discount_fallback")
    _run(command, "lmplz")


def _binarize(
    arpa: Path, output: Path, language: str, tools_dir: str | os.PathLike[str] | None
) -> Path:
    """``build_binary`` the ARPA into ``<lang>.arpa.bin``; keep ``<lang>.arpa`` without it."""
    for stale in (output / f"{language}.arpa.bin", output / f"{language}.arpa"):
        stale.unlink(missing_ok=True)
    build_binary = find_kenlm_tool("build_binary", tools_dir)
    if build_binary is None:
        target = output / f"{language}.arpa"
        shutil.move(str(arpa), target)
        return target
    target = output / f"{language}.arpa.bin"
    _run([build_binary, str(arpa), str(target)], "build_binary")
    return target


def _run(command: list[str], tool: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LanguageModelTrainingError(
            f"{tool} failed with exit status {result.returncode}: {' '.join(command)}\n"
            f"{result.stderr[-4000:]}"
        )


def perplexity_cutoffs(
    texts: Iterable[str],
    model_path: str,
    tokenizer_path: str,
    percentiles: Sequence[float] = (30.0, 60.0),
    batch_size: int = 256,
) -> dict[str, float]:
    """CCNet's bucket cut-offs: percentiles of the document perplexities of ``texts``."""
    values: list[np.ndarray] = []
    for batch in _batched(texts, batch_size):
        log10_sum, tokens = score_texts(batch, model_path, tokenizer_path)
        scored = tokens > 0
        values.append(np.power(10.0, -log10_sum[scored] / tokens[scored]))
    perplexities = np.concatenate(values) if values else np.empty(0)
    if perplexities.size == 0:
        raise LanguageModelTrainingError("no document could be scored to compute cut-offs")
    head, tail = np.percentile(perplexities, list(percentiles))
    return {
        "head": round(float(head), 1),
        "tail": round(float(tail), 1),
        "percentiles": list(percentiles),
        "documents": int(perplexities.size),
    }


def save_cutoffs(model_dir: str | os.PathLike[str], language: str, cutoffs: dict) -> Path:
    """Merge ``language``'s cut-offs into ``<model_dir>/cutoffs.json``."""
    path = Path(model_dir) / CUTOFFS_FILE
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    data[language] = cutoffs
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
