"""Published data mixtures by category (the survey's Fig. 2, Zhao et al. §4.1.3).

Each preset gives the share of training tokens per category, as its paper reports it:

- ``llama``: Touvron et al. 2023, Table 1 — CommonCrawl 67% + C4 15% (web), GitHub 4.5%,
  Books 4.5%, Wikipedia 4.5%, ArXiv 2.5%, StackExchange 2%.
- ``gopher``: Rae et al. 2021, Table 1 (MassiveText sampling proportions) — MassiveWeb 48% +
  C4 10% (web), Books 27%, News 10%, GitHub 3%, Wikipedia 2%.
- ``gpt3``: Brown et al. 2020, Table 2.2 — Common Crawl 60% + WebText2 22% (web),
  Books1 8% + Books2 8%, Wikipedia 3% (the published shares add up to 101%).

A config maps categories onto its own sources (``mixture.categories``); a category with
no source is dropped and the others are renormalised, and the plan says so.
"""

from __future__ import annotations

CATEGORIES = ("web", "code", "books", "news", "wikipedia", "arxiv", "stackexchange")

PRESETS: dict[str, dict[str, float]] = {
    "llama": {
        "web": 0.82,
        "code": 0.045,
        "books": 0.045,
        "wikipedia": 0.045,
        "arxiv": 0.025,
        "stackexchange": 0.02,
    },
    "gopher": {"web": 0.58, "books": 0.27, "news": 0.10, "code": 0.03, "wikipedia": 0.02},
    "gpt3": {"web": 0.82, "books": 0.16, "wikipedia": 0.03},
}

CITATIONS: dict[str, str] = {
    "llama": "Touvron et al. 2023 (LLaMA), Table 1",
    "gopher": "Rae et al. 2021 (Gopher, MassiveText), Table 1",
    "gpt3": "Brown et al. 2020 (GPT-3), Table 2.2",
}
