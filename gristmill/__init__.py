"""gristmill: pretraining data preparation for LLMs, as a Dask dataflow.

Raw shards → quality filtering → de-duplication → privacy reduction → tokenization →
mixture (Zhao et al., "A Survey of Large Language Models", §4.1.2, Fig. 3).
"""

__version__ = "0.1.0"

#: names importable from ``gristmill`` itself, loaded on first use (``import gristmill``
#: stays cheap for the Dask workers)
_LAZY = {
    "Pipeline": "gristmill.pipelines.api",
    "Source": "gristmill.pipelines.api",
    "register_step": "gristmill.pipelines.registry",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gristmill' has no attribute {name!r}")
