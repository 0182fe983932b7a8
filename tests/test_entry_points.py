"""The ways in: ``python -m gristmill`` and the Dask dashboard link printed by ``run``."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest

from gristmill.pipelines.runner import dask_client


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gristmill", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "usage: gristmill" in result.stdout


@pytest.mark.integration
def test_dashboard_link_serves_the_status_page() -> None:
    """The link ``gristmill run`` prints answers (bokeh is installed, so it is not dead)."""
    with dask_client(workers=1) as client:
        link = client.dashboard_link
        with urllib.request.urlopen(link, timeout=60) as response:
            body = response.read().decode("utf-8", "replace")
            assert response.status == 200
    assert "needs bokeh" not in body
    assert "Dask" in body


def test_run_summary_is_not_cut_when_stdout_is_a_log(capsys) -> None:
    from gristmill.cli import stdout_console
    from gristmill.report.summary import print_run_summary

    removed = {"c4:too_few_sentences": 1234, "gopher_repetition:dup_line_char_frac": 99}
    stage = {"stage": "c4", "docs_in": 2000, "docs_out": 667, "bytes_out": 1e6, "removed": removed}
    run = {"output": "s3://bucket/a/long/output/prefix", "sources": {"web": {"stages": [stage]}}}
    print_run_summary(run, stdout_console())
    printed = capsys.readouterr().out
    assert "c4:too_few_sentences 1,234" in printed
    assert "gopher_repetition:dup_line_char_frac 99" in printed
