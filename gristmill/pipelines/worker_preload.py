"""What each worker process of the embedded cluster does as it starts (Dask's preload
hook, named in the cluster's ``distributed.worker.preload``): ignore Ctrl-C, which the
client handles (:mod:`gristmill.pipelines.worker_ctrl_c`), and keep pyarrow from importing
pandas until something needs pandas (:mod:`gristmill.arrow_pandas`)."""

from __future__ import annotations

from typing import Any

from gristmill.arrow_pandas import defer_pandas
from gristmill.pipelines.worker_ctrl_c import ignore_ctrl_c


def dask_setup(worker: Any) -> None:
    ignore_ctrl_c()
    defer_pandas()
