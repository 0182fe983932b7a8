"""A built-in interpolated modified Kneser–Ney n-gram estimator that writes ARPA.

Modified Kneser–Ney smoothing as defined by Chen & Goodman (1998, "An Empirical Study of
Smoothing Techniques for Language Modeling", §3 and eq. 26), with the conventions of
KenLM's ``lmplz`` (Heafield et al. 2013, "Scalable Modified Kneser-Ney Language Model
Estimation") so that its ARPA files agree with ``lmplz``'s: one ``<s>`` per sentence and
n-grams that start with it keep their raw counts, lower orders use continuation counts,
three discounts per order from the counts of counts, unigrams interpolated with the
uniform distribution over the vocabulary (``<unk>`` included, ``<s>`` excluded), ``<s>``
gets probability 1, and lmplz's fallback discounts (0.5, 1, 1.5) when the data is too
small to estimate them. Counting is vectorised with numpy: each n-gram is an integer key
``index of its prefix × vocabulary size + last word``, so an order costs one ``np.unique``.
Meant for small models and machines without a compiler; ``lmplz`` scales further.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UNK, BOS, EOS = "<unk>", "<s>", "</s>"
_UNK_ID, _BOS_ID, _EOS_ID = 0, 1, 2
#: lmplz's ``--discount_fallback`` defaults (D1, D2, D3+)
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


class DiscountError(ValueError):
    """The counts of counts cannot give modified Kneser–Ney discounts (tiny or odd data)."""


@dataclass
class NGramOrder:
    """The n-grams of one order: token ids, log10 probabilities and log10 backoffs."""

    tokens: np.ndarray  # (count, order) int64 word ids
    log_prob: np.ndarray  # (count,) float64
    log_backoff: np.ndarray  # (count,) float64; 0.0 where the n-gram is not a context


@dataclass
class NGramModel:
    """An estimated back-off model: the vocabulary and one :class:`NGramOrder` per order."""

    vocabulary: list[str]
    orders: list[NGramOrder]
    discounts: list[tuple[float, float, float]]

    def write_arpa(self, path: str | Path) -> None:
        """Write the model in the ARPA back-off format (readable by KenLM and SRILM)."""
        words = np.array(self.vocabulary, dtype=object)
        highest = len(self.orders)
        with open(path, "w", encoding="utf-8") as out:
            out.write("\\data\\\n")
            for order, grams in enumerate(self.orders, start=1):
                out.write(f"ngram {order}={len(grams.log_prob)}\n")
            for order, grams in enumerate(self.orders, start=1):
                out.write(f"\n\\{order}-grams:\n")
                texts = [" ".join(row) for row in words[grams.tokens].tolist()]
                if order == highest:
                    lines = (f"{p:.7g}\t{t}\n" for p, t in zip(grams.log_prob, texts, strict=True))
                else:
                    lines = (
                        f"{p:.7g}\t{t}\t{b:.7g}\n"
                        for p, t, b in zip(grams.log_prob, texts, grams.log_backoff, strict=True)
                    )
                out.writelines(lines)
            out.write("\n\\end\\\n")


def estimate(
    sentences: Iterable[str | list[str]],
    order: int = 5,
    discount_fallback: bool = True,
    skip_symbols: bool = False,
) -> NGramModel:
    """Estimate an interpolated modified Kneser–Ney model of ``order`` from sentences.

    A sentence is a whitespace-tokenised string (one line of ``lmplz --text``) or a list
    of tokens. With ``discount_fallback`` (lmplz's ``--discount_fallback``), orders whose
    discounts cannot be estimated use 0.5, 1, 1.5; without it they raise
    :class:`DiscountError`, as lmplz does. ``<s>``, ``</s>`` and ``<unk>`` in the text are
    an error, or dropped with ``skip_symbols`` (lmplz's ``--skip_symbols``).
    """
    if order < 1:
        raise ValueError(f"order must be at least 1, got {order}")
    vocabulary, sequence = _encode(sentences, skip_symbols)
    vocab_size = len(vocabulary)
    room = _tokens_left_in_sentence(sequence)
    starts_with_bos = sequence == _BOS_ID

    # Count every order: unique keys, raw counts, and the index of the n-gram at each position.
    keys: list[np.ndarray] = []
    raw_counts: list[np.ndarray] = []
    first_position: list[np.ndarray] = []
    index_at: list[np.ndarray] = []
    previous = sequence
    for n in range(1, order + 1):
        positions = np.flatnonzero(room >= n)
        if n == 1:
            gram_keys = sequence
        else:
            gram_keys = previous[positions] * vocab_size + sequence[positions + n - 1]
        if n == 1:
            unique, first, inverse, counts = np.unique(
                np.concatenate([[_UNK_ID], gram_keys]),
                return_index=True,
                return_inverse=True,
                return_counts=True,
            )
            counts[0] -= 1  # the <unk> added so that the vocabulary always holds it
            first = first - 1
            inverse = inverse[1:]
        else:
            unique, first, inverse, counts = np.unique(
                gram_keys, return_index=True, return_inverse=True, return_counts=True
            )
        if len(unique) == 0:
            break
        here = np.full(len(sequence), -1, dtype=np.int64)
        here[positions] = inverse
        keys.append(unique)
        raw_counts.append(counts)
        first_position.append(np.where(first >= 0, positions[np.maximum(first, 0)], -1))
        index_at.append(here)
        previous = here

    orders_found = len(keys)
    adjusted = _adjusted_counts(keys, raw_counts, first_position, index_at, starts_with_bos)
    discounts = [_discounts(a, n + 1, discount_fallback) for n, a in enumerate(adjusted)]

    # Uninterpolated probabilities and interpolation weights (gamma) of each context.
    log_probs: list[np.ndarray] = []
    gammas: list[np.ndarray] = []  # gammas[n] = gamma of each (n+1)-gram as a context
    probabilities: list[np.ndarray] = []
    for n in range(orders_found):
        counts = adjusted[n]
        d = np.array((0.0, *discounts[n]))
        discounted = counts - d[np.minimum(counts, 3)]
        if n == 0:
            denominator = counts.sum()
            gamma_empty = _gamma(counts, d, np.zeros(len(counts), dtype=np.int64), 1)[0]
            uninterpolated = discounted / denominator
            interpolated = uninterpolated + gamma_empty / (vocab_size - 1)
            interpolated[_BOS_ID] = 1.0
        else:
            context = keys[n] // vocab_size
            n_contexts = len(keys[n - 1])
            denominator = np.bincount(context, weights=counts, minlength=n_contexts)
            gammas.append(_gamma(counts, d, context, n_contexts))
            suffix = index_at[n - 1][first_position[n] + 1]
            interpolated = (
                discounted / denominator[context]
                + gammas[-1][context] * (probabilities[n - 1][suffix])
            )
        probabilities.append(interpolated)
        log_probs.append(np.minimum(0.0, np.log10(interpolated)))

    tokens = _token_matrix(keys, vocab_size)
    result = []
    for n in range(orders_found):
        backoff = np.zeros(len(keys[n]))
        if n < len(gammas):
            last = tokens[n][:, -1]
            has_extensions = np.bincount(keys[n + 1] // vocab_size, minlength=len(keys[n])) > 0
            is_context = has_extensions & (last != _EOS_ID) & (last != _UNK_ID)
            backoff[is_context] = np.log10(gammas[n][is_context])
        result.append(NGramOrder(tokens=tokens[n], log_prob=log_probs[n], log_backoff=backoff))
    return NGramModel(vocabulary=vocabulary, orders=result, discounts=discounts)


def _encode(
    sentences: Iterable[str | list[str]], skip_symbols: bool = False
) -> tuple[list[str], np.ndarray]:
    """Word ids of all sentences, each wrapped in ``<s> … </s>``, as one flat array."""
    vocabulary = [UNK, BOS, EOS]
    ids: dict[str, int] = {word: index for index, word in enumerate(vocabulary)}
    sequence: list[int] = []
    for sentence in sentences:
        words = sentence.split() if isinstance(sentence, str) else sentence
        sequence.append(_BOS_ID)
        for word in words:
            index = ids.get(word)
            if index is None:
                index = ids[word] = len(vocabulary)
                vocabulary.append(word)
            elif index <= _EOS_ID:
                if skip_symbols:
                    continue
                raise ValueError(f"the text contains the reserved symbol {word!r}")
            sequence.append(index)
        sequence.append(_EOS_ID)
    return vocabulary, np.asarray(sequence, dtype=np.int64)


def _tokens_left_in_sentence(sequence: np.ndarray) -> np.ndarray:
    """For each position, how many tokens remain in its sentence (itself included)."""
    ends = np.flatnonzero(sequence == _EOS_ID)
    sentence_end = ends[np.searchsorted(ends, np.arange(len(sequence)))]
    return sentence_end - np.arange(len(sequence)) + 1


def _adjusted_counts(
    keys: list[np.ndarray],
    raw_counts: list[np.ndarray],
    first_position: list[np.ndarray],
    index_at: list[np.ndarray],
    starts_with_bos: np.ndarray,
) -> list[np.ndarray]:
    """Raw counts for the highest order and for n-grams starting with ``<s>``; otherwise
    the number of distinct words seen to the left (continuation counts)."""
    adjusted = []
    highest = len(keys) - 1
    for n in range(len(keys)):
        if n == highest:
            adjusted.append(raw_counts[n].astype(np.int64))
            continue
        extension_positions = first_position[n + 1]
        suffix = index_at[n][extension_positions + 1]
        continuation = np.bincount(suffix, minlength=len(keys[n]))
        bos_first = np.zeros(len(keys[n]), dtype=bool)
        seen = first_position[n] >= 0
        bos_first[seen] = starts_with_bos[first_position[n][seen]]
        counts = np.where(bos_first, raw_counts[n], continuation).astype(np.int64)
        if n == 0:
            counts[_BOS_ID] = 0  # <s> is never predicted; lmplz gives it no count
        adjusted.append(counts)
    return adjusted


def _discounts(counts: np.ndarray, order: int, fallback: bool) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts of counts n1..n4 (Chen & Goodman eq. 26)."""
    n = np.bincount(np.minimum(counts, 5), minlength=6)[:5].astype(np.float64)
    try:
        for j in (1, 2, 3):
            if n[j] == 0:
                raise DiscountError(
                    f"cannot estimate Kneser-Ney discounts for {order}-grams: no {order}-gram "
                    f"has adjusted count {j} (is the text tiny or artificial?)"
                )
        y = n[1] / (n[1] + 2 * n[2])
        values = tuple(float(j - (j + 1) * y * n[j + 1] / n[j]) for j in (1, 2, 3))
        for j, value in enumerate(values, start=1):
            if not 0.0 <= value <= j:
                raise DiscountError(
                    f"the {order}-gram discount for count {j} is out of range: {value:.4f}"
                )
        return values  # type: ignore[return-value]
    except DiscountError:
        if not fallback:
            raise
        return FALLBACK_DISCOUNTS


def _gamma(counts: np.ndarray, d: np.ndarray, context: np.ndarray, n_contexts: int) -> np.ndarray:
    """Interpolation weight of each context: discounted mass over the context's total."""
    mass = np.bincount(
        context, weights=d[np.minimum(counts, 3)] * (counts > 0), minlength=n_contexts
    )
    total = np.bincount(context, weights=counts, minlength=n_contexts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, mass / np.where(total > 0, total, 1), 0.0)


def _token_matrix(keys: list[np.ndarray], vocab_size: int) -> list[np.ndarray]:
    """Unfold the prefix-index keys into rows of word ids."""
    matrices = [keys[0].reshape(-1, 1)]
    for n in range(1, len(keys)):
        prefix = keys[n] // vocab_size
        matrices.append(np.column_stack([matrices[n - 1][prefix], keys[n] % vocab_size]))
    return matrices


def read_arpa(path: str | Path) -> dict[tuple[str, ...], tuple[float, float]]:
    """An ARPA file as ``{n-gram words: (log10 prob, log10 backoff)}`` (for comparisons)."""
    entries: dict[tuple[str, ...], tuple[float, float]] = {}
    order = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if line.startswith("\\") and line.endswith("-grams:"):
                order = int(line[1:].split("-")[0])
                continue
            if not order or not line or line.startswith("\\"):
                continue
            fields = line.split("\t")
            backoff = float(fields[2]) if len(fields) > 2 else 0.0
            entries[tuple(fields[1].split(" "))] = (float(fields[0]), backoff)
    return entries


def perplexity(model: NGramModel, sentences: Iterable[str]) -> float:
    """Perplexity of whitespace-tokenised sentences under ``model`` (a check, not a scorer)."""
    table = {
        tuple(model.vocabulary[i] for i in row): (p, b)
        for grams in model.orders
        for row, p, b in zip(grams.tokens.tolist(), grams.log_prob, grams.log_backoff, strict=True)
    }
    total, tokens = 0.0, 0
    highest = len(model.orders)
    known = set(model.vocabulary)
    for sentence in sentences:
        words = [BOS] + [w if w in known else UNK for w in sentence.split()] + [EOS]
        for position in range(1, len(words)):
            history = words[max(0, position - highest + 1) : position]
            total += _backoff_log_prob(table, tuple(history), words[position])
            tokens += 1
    return math.pow(10.0, -total / max(tokens, 1))


def _backoff_log_prob(
    table: dict[tuple[str, ...], tuple[float, float]], history: tuple[str, ...], word: str
) -> float:
    backoff = 0.0
    while True:
        entry = table.get((*history, word))
        if entry is not None:
            return backoff + entry[0]
        context = table.get(history) if history else None
        if context is not None:
            backoff += context[1]
        history = history[1:]
