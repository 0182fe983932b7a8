"""The ``tokenizer:`` section of a pipeline config: training sample, backend, encoding.

Defaults follow the survey's tokenization advice (Zhao et al., §4.1.2) and LLaMA's
SentencePiece settings (Touvron et al., 2023): byte-pair encoding with byte fallback so no
text is ever unknown, digits split into single tokens, identity normalisation (NFKC is
optional: it can hurt, e.g. on code), whitespace kept as it is so decoding is exact::

    tokenizer:
      backend: sentencepiece        # or huggingface (tokenizers byte-level BPE)
      vocab_size: 32000
      sample: {max_bytes: 100000000, seed: 0}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TokenizerTrainingError(ValueError):
    """The tokenizer cannot be trained as configured (e.g. a vocabulary larger than the
    training sample allows); the message names the config key to change."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SpecialTokens(_Strict):
    """Control tokens, given ids 0, 1, 2, ... in this order (unset ones are skipped).

    ``user_defined`` symbols follow them; unlike control tokens they are matched in the
    text (e.g. chat markers). Control tokens written literally in a document are encoded
    as ordinary text, never as the control id.
    """

    unk: str = "<unk>"
    bos: str | None = "<s>"
    eos: str = "</s>"
    pad: str | None = "<pad>"
    user_defined: tuple[str, ...] = ()

    def control(self) -> list[tuple[str, str]]:
        """``[(role, piece), ...]`` in id order."""
        roles = (("unk", self.unk), ("bos", self.bos), ("eos", self.eos), ("pad", self.pad))
        return [(role, piece) for role, piece in roles if piece is not None]

    def ids(self) -> dict[str, int | None]:
        """The id of each control role (None when unset)."""
        assigned = {role: index for index, (role, _) in enumerate(self.control())}
        return {role: assigned.get(role) for role in ("unk", "bos", "eos", "pad")}

    @model_validator(mode="after")
    def _distinct(self) -> SpecialTokens:
        pieces = [piece for _, piece in self.control()] + list(self.user_defined)
        if len(set(pieces)) != len(pieces) or any(not piece for piece in pieces):
            raise ValueError(f"special tokens must be distinct and non-empty, got {pieces}")
        return self


class SampleConfig(_Strict):
    """The training sample: drawn from the cleaned shards, per source by mixture weight.

    Lines (SentencePiece's sentences) are kept with a seeded probability chosen so that
    each source contributes ``weight x max_bytes`` bytes; when a source has less text than
    that, the others are capped so the shares still hold (``keep_shares``; false: the
    scarce source gives all it has and its share shrinks), with a warning. Lines longer
    than ``max_sentence_bytes`` are cut. Held-back documents never enter the sample and measure
    the trained tokenizer.
    """

    max_bytes: int = Field(100_000_000, gt=0, description="sample size in UTF-8 bytes")
    max_sentences: int | None = Field(None, gt=0, description="cap on sample lines")
    keep_shares: bool = Field(
        True, description="cap the other sources when one has less text than its share"
    )
    seed: int = 0
    max_sentence_bytes: int = Field(4192, ge=64, description="SentencePiece max_sentence_length")
    held_out_docs: int = Field(200, ge=0, description="held-back documents per source (about)")
    held_out_bytes: int = Field(4_000_000, ge=0, description="held-back bytes per source at most")
    held_out_share: float = Field(
        0.1, ge=0, le=0.5, description="held-back share of a source's documents at most"
    )


class TokenizerConfig(_Strict):
    """Train a BPE tokenizer on the cleaned corpus, then encode the corpus with it."""

    backend: Literal["sentencepiece", "huggingface"] = "sentencepiece"
    model_type: Literal["bpe", "unigram"] = "bpe"
    vocab_size: int = Field(32000, ge=300, le=2**31 - 1)
    byte_fallback: bool = True
    split_digits: bool = True
    normalization: Literal["identity", "nfkc"] = "identity"
    character_coverage: float = Field(0.9995, gt=0, le=1)
    special_tokens: SpecialTokens = Field(default_factory=SpecialTokens)
    threads: int | None = Field(None, ge=1, description="training threads (default: cores)")
    sample: SampleConfig = Field(default_factory=SampleConfig)
    encode: bool = Field(True, description="tokenize the corpus into out/tokens/")
    add_bos: bool = False
    encode_batch_docs: int = Field(256, gt=0)
    encode_threads: int = Field(1, ge=1, description="threads per encoding task")
    dtype: Literal["auto", "uint16", "int32"] = "auto"

    @model_validator(mode="after")
    def _consistent(self) -> TokenizerConfig:
        if self.backend == "huggingface" and self.model_type != "bpe":
            raise ValueError("the huggingface backend trains byte-level BPE only (model_type: bpe)")
        if self.add_bos and self.special_tokens.bos is None:
            raise ValueError("add_bos needs special_tokens.bos")
        if self.dtype == "uint16" and self.vocab_size > 2**16:
            raise ValueError(f"vocab_size {self.vocab_size} does not fit uint16")
        return self

    def check(self, run_config: Any) -> None:
        """Cross-section checks, before any work: the sample's weights can be resolved.

        Raises ``ValueError`` naming the key (the config loader can turn it into a
        ``ConfigError``)."""
        from gristmill.tokenize.weights import sample_weights

        sample_weights(run_config, {source.name: 1 for source in run_config.sources})

    def training_params(self) -> dict:
        """What determines the trained model (encoding options excluded)."""
        return self.model_dump(
            mode="json",
            exclude={
                "encode",
                "add_bos",
                "encode_batch_docs",
                "encode_threads",
                "dtype",
                "threads",
            },
        )

    def token_dtype(self) -> str:
        if self.dtype != "auto":
            return self.dtype
        return "uint16" if self.vocab_size <= 2**16 else "int32"
