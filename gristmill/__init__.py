"""gristmill: pretraining data preparation for LLMs, as a Dask dataflow.

Raw shards → quality filtering → de-duplication → privacy reduction → tokenization →
mixture (Zhao et al., "A Survey of Large Language Models", §4.1.2, Fig. 3).
"""

__version__ = "0.1.0"
