"""CPU seconds of work on gristmill's embedded Dask cluster: its worker processes and this one.

On a shared machine wall time also measures the neighbours' load; the user + system time of
every process that did the work does not. ``LocalCluster`` runs the scheduler in this
process and each worker in its own process, so a run's CPU time is the growth of
``getrusage`` (self and waited-for children) in each worker plus in this process.
"""

from __future__ import annotations

import resource


def own_cpu_seconds() -> float:
    """User + system seconds of this process and of its children that have ended."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def cluster_cpu_seconds(client) -> float:
    """CPU seconds used so far by the cluster's workers and this process (take differences)."""
    per_worker = client.run(own_cpu_seconds)
    return sum(per_worker.values()) + own_cpu_seconds()
