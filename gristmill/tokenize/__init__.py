"""Tokenization (survey §4.1.2): train a BPE tokenizer on the cleaned corpus, encode it.

- :mod:`.config` — the ``tokenizer:`` section (:class:`TokenizerConfig`).
- :mod:`.sample` / :mod:`.sentences` — the seeded, mixture-weighted training sample.
- :mod:`.spm_backend` / :mod:`.hf_backend` — SentencePiece BPE and HF byte-level BPE.
- :mod:`.train` — the training task; :mod:`.quality` — measures on held-back documents.
- :mod:`.encode` — the per-shard encoding task (``out/tokens/``).
- :mod:`.stage` — ``run_tokenizer_stage``, called by the runner; :mod:`.commands` —
  ``gristmill tokenizer train``.
"""
