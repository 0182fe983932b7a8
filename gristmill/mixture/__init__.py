"""Mixture (survey §4.1.3, Fig. 2): weighted, packed, shuffled shards for the trainer.

- :mod:`.config` — the ``mixture:`` section; :mod:`.presets` — LLaMA, Gopher, GPT-3;
  :mod:`.weights` — per-source weights from the config.
- :mod:`.planner` — token targets (exact, shortfall policy), seeded samples, one source per
  row, rows interleaved by progress.
- :mod:`.writer` — one Dask task per output shard; :mod:`.megatron` — ``.bin``/``.idx``.
- :mod:`.manifest` — ``out/manifest.json``, ``describe_manifest``, ``verify_manifest``.
- :mod:`.loader` — memory-mapped, rank-sharded, resumable batches, shard sha256 checked on
  first use (torch optional); :mod:`.shard_view` — rows decoded for ``gristmill inspect``.
- :mod:`.stage` — ``run_mixture_stage``, called by the runner; :mod:`.commands` —
  ``gristmill verify``.
"""
