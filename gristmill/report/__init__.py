"""The run report: ``report/stats.json``, ``report/report.html`` and its PNG charts.

Built from ``run.json`` alone, so ``gristmill report RUN_DIR`` regenerates it without
re-running anything, and ``gristmill report A B`` compares two runs.
"""
