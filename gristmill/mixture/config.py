"""The ``mixture:`` section of a pipeline config: weights, budget, epochs, packing, shards.

Weights are shares of training *tokens* per source: the sources' ``weight`` keys, or a
preset of the survey's Fig. 2 mapped onto the sources (``preset: llama`` with
``categories: {web: [cc, c4], books: [gutenberg]}``). The budget is a number of tokens, or
``null`` for "use everything at these proportions" (the source that runs out first is
used exactly once). Sources may be repeated up to ``max_epochs`` times — LLaMA and Gopher
upsample books and Wikipedia; Muennighoff et al. (2023) find up to about four epochs nearly
as good as fresh data. A source that cannot reach its weight within ``max_epochs`` stops
the run with an error naming it, unless ``on_shortfall`` sets a policy: ``reweight`` (cap
it at ``max_epochs`` and give its missing share to the others, recorded in the manifest)
or ``repeat`` (exceed ``max_epochs``)::

    mixture:
      seq_len: 2048
      total_tokens: null
      max_epochs: 4
      on_shortfall: error
      seed: 0
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gristmill.mixture.presets import PRESETS
from gristmill.mixture.weights import resolve_weights


class MixtureConfig(BaseModel):
    """Mixture weights, token budget, packing into rows and the output shards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq_len: int = Field(2048, ge=2)
    next_token_targets: bool = Field(
        False, description="rows of seq_len + 1 tokens (inputs row[:-1], targets row[1:])"
    )
    documents_cross_rows: bool = Field(
        True, description="false: a document starts a new row when it does not fit (padding)"
    )
    total_tokens: int | None = Field(None, gt=0, description="null: everything at the weights")
    max_epochs: float = Field(4.0, gt=0)
    on_shortfall: Literal["error", "reweight", "repeat"] = Field(
        "error",
        description="a source short of its weight within max_epochs: fail, reweight "
        "the others, or repeat it more",
    )
    seed: int = 0
    preset: Literal["llama", "gopher", "gpt3"] | None = None
    categories: dict[str, list[str]] = Field(default_factory=dict)
    shard_rows: int = Field(8192, gt=0, description="rows per output shard")
    pad_id: int | None = Field(None, ge=0, description="default: the tokenizer's pad, else EOS")
    megatron: bool = Field(False, description="also export Megatron-LM .bin/.idx per source")

    @model_validator(mode="after")
    def _categories_need_a_preset(self) -> MixtureConfig:
        if self.categories and self.preset is None:
            raise ValueError("categories map a preset's categories onto sources; set a preset")
        if self.preset is not None:
            unknown = sorted(set(self.categories) - set(PRESETS[self.preset]))
            if unknown:
                raise ValueError(
                    f"categories {unknown} are not in preset {self.preset!r}; "
                    f"allowed: {', '.join(PRESETS[self.preset])}"
                )
        return self

    @property
    def row_length(self) -> int:
        return self.seq_len + 1 if self.next_token_targets else self.seq_len

    def check(self, run_config: Any) -> None:
        """Cross-section checks, before any work: a tokenizer section, consistent weights.

        Raises ``ValueError`` naming the key (the config loader can turn it into a
        ``ConfigError``)."""
        if run_config.tokenizer is None:
            raise ValueError("mixture: needs the token shards of a 'tokenizer:' section (add one)")
        declared = {source.name: source.weight for source in run_config.sources}
        resolve_weights(declared, dict.fromkeys(declared, 1), self.preset, self.categories)

    def source_weights(
        self, declared: dict[str, float | None], sizes: dict[str, int]
    ) -> dict[str, float]:
        """Normalised per-source weights (``sizes`` split a category among its sources)."""
        return resolve_weights(declared, sizes, self.preset, self.categories).weights
