"""With a ``pii`` step, no raw PII anywhere in the output folder: planted emails, an AWS key
and an RSA private key are looked for in every byte of every file the run wrote —
``data/``, ``rejected/`` (documents removed before the pii stage), ``work/`` (intermediate
shards), the report — and a resumed run still works after ``work/`` was cleaned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from gristmill.report.writer import write_report
from tests.corpus import write_config
from tests.pii_fixtures import fake_private_key

EMAILS = ("jane.doe@example.com", "sales+eu@mail.example.co.uk")
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY2EXAMPLEKEY"
PRIVATE_KEY = fake_private_key(seed=5)
#: a line of the key's base64 body: what must not survive anywhere
PRIVATE_KEY_LINE = PRIVATE_KEY.splitlines()[2]
PLANTED = (*EMAILS, AWS_KEY_ID, AWS_SECRET, PRIVATE_KEY_LINE)

FILLER = (
    "The mill ground grain for the village while the river turned its wheel and the "
    "farmers brought sacks from the valley every autumn before the first rain came down."
)


def _documents() -> list[list[str]]:
    """Two shards: documents kept, too short (removed by ``length`` before pii), duplicated
    (removed by ``exact_dedup`` before pii) and too short after scrubbing (removed by the
    ``length`` stage after pii) — each one carrying planted values."""
    with_everything = (
        f"{FILLER}\nContact {EMAILS[0]} for access.\n"
        f'aws_access_key_id="{AWS_KEY_ID}"\naws_secret_access_key="{AWS_SECRET}"\n'
        f"{PRIVATE_KEY}\n{FILLER}"
    )
    short = f"mail {EMAILS[1]} key {AWS_KEY_ID}"
    short_key = f"key:\n{PRIVATE_KEY}\nend"
    other = f"{FILLER} Write to {EMAILS[1]} today. {FILLER}"
    return [
        [with_everything, short, other, short_key],
        [with_everything, f'{FILLER} {FILLER}\naws_secret_access_key = "{AWS_SECRET}"', short],
    ]


def _write_corpus(folder: Path) -> None:
    folder.mkdir(parents=True)
    for index, texts in enumerate(_documents()):
        lines = "".join(json.dumps({"text": text}) + "\n" for text in texts)
        (folder / f"part-{index}.jsonl").write_text(lines, encoding="utf-8")


def _config(tmp_path: Path, stages_after_pii: list) -> Path:
    return write_config(
        tmp_path / "p.yaml",
        {
            "output": str(tmp_path / "out"),
            "write_rejected": True,
            "sources": [
                {
                    "name": "web",
                    "paths": [str(tmp_path / "corpus" / "*.jsonl")],
                    "format": "jsonl",
                    "stages": [
                        "normalize",
                        {"length": {"min_words": 20}},
                        "exact_dedup",
                        {"pii": {"ner": "off"}},
                        *stages_after_pii,
                    ],
                }
            ],
        },
    )


def _planted_values_found(folder: Path) -> dict[str, list[str]]:
    """Every file under ``folder`` (Arrow IPC shards are uncompressed, so raw bytes hold
    the text) that contains a planted value, by value."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for value in PLANTED:
            if value.encode("utf-8") in data or json.dumps(value)[1:-1].encode() in data:
                found.setdefault(value, []).append(str(path.relative_to(folder)))
    return found


def _counts(run: dict) -> list[dict]:
    """Per stage of the web source, its counts without timings."""
    return [
        {key: value for key, value in stage.items() if key not in ("wall_s", "cpu_s")}
        for stage in run["sources"]["web"]["stages"]
    ]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=1) as client:
        yield client


def test_no_planted_pii_anywhere_in_the_output_folder_and_resume_still_works(tmp_path, client):
    _write_corpus(tmp_path / "corpus")
    assert _planted_values_found(tmp_path / "corpus").keys() == set(PLANTED)
    out = tmp_path / "out"
    config = load_config(_config(tmp_path, [{"length": {"min_words": 30}}]))

    run = run_pipeline(config, client)
    write_report(str(out))

    assert _planted_values_found(out) == {}
    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    assert stages["length"]["removed"] == {"length:too_few_words": 3}
    assert stages["exact_dedup"]["removed"] == {"exact_dedup:duplicate": 1}
    # the removed documents are in rejected/, scrubbed by the pii step
    rejected = {
        stage: [t for p in sorted((out / "rejected" / "web" / stage).glob("*.arrow"))
                for t in read_table(str(p)).column("text").to_pylist()]
        for stage in ("length", "exact_dedup")
    }  # fmt: skip
    assert len(rejected["length"]) == 3 and len(rejected["exact_dedup"]) == 1
    assert any("<EMAIL_ADDRESS>" in t and "<API_KEY>" in t for t in rejected["length"])
    assert "<PRIVATE_KEY>" in rejected["exact_dedup"][0]
    # the raw intermediate shards of the segment before pii are gone; the final ones stay
    assert not (out / "work" / "web" / "segment-0").exists()
    data = sorted((out / "data" / "web").glob("*.arrow"))
    assert len(data) == 2
    first_bytes = [p.read_bytes() for p in data]

    # resume with the same config: everything is reused or redone identically
    again = run_pipeline(config, client)
    assert _counts(again) == _counts(run)
    assert [p.read_bytes() for p in data] == first_bytes
    assert _planted_values_found(out) == {}

    # a change after the dedup step needs segment 0's shards again: they are rebuilt
    changed = load_config(_config(tmp_path, [{"length": {"min_words": 100}}]))
    rerun = run_pipeline(changed, client)
    after_pii = rerun["sources"]["web"]["stages"][-1]
    assert after_pii["removed"] == {"length_2:too_few_words": 3}
    assert rerun["sources"]["web"]["docs_out"] < run["sources"]["web"]["docs_out"]
    assert _planted_values_found(out) == {}
