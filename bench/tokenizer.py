"""Tokenizer training and encoding on ~100 MB of real text (books + web + code).

The corpus is cycled from ``../shared/data``: Gutenberg novels (books), the dolma/CCNet
CommonCrawl documents and the Leipzig sentences of lingua grouped into pages (web), and the
numpy/gin/express source trees (code). Every 40th original document of each source is held
back before cycling (unseen text for bytes per token and round trips).

1. gristmill's pipeline (no document stages) with a ``tokenizer:`` section on the embedded
   Dask cluster: sampling, the training task (32k BPE, all sentences) and encoding.
2. Training alone, each in a fresh process on the same prepared sample, timed in CPU
   seconds of that process (all its threads; imports excluded), with its peak RSS; the
   sentencepiece runs twice each, interleaved, keeping the lower CPU time:
   ``SentencePieceTrainer`` reading the sample files itself (the reference), gristmill's
   sentencepiece path (streamed sample, same trainer options) — the two models' pieces and
   scores are compared (equal work, equal output) — and gristmill's Hugging Face
   byte-level BPE path (same sample and vocabulary size; a different algorithm, so its
   output is compared by bytes per token and round trips, not byte for byte).
3. Encoding throughput per core (one thread) and bytes per token on the held-back text per
   source, for both backends; round-trip exactness on every held-back document.

Ends with ``RESULT overhead_vs_spm=<gristmill spm CPU time / direct spm CPU time>
spm_same_model=<0|1> hf_train_speedup=<spm CPU time / HF CPU time> roundtrip_exact=<0|1>
bytes_per_token=<mean over web/code/books, sentencepiece>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
HOLD_EVERY = 40
CODE_SUFFIXES = {".c", ".h", ".py", ".pyx", ".pxd", ".go", ".js", ".ts", ".md", ".rst", ".txt",
                 ".json", ".f", ".f90", ".cpp", ".hpp", ".sh", ".yml", ".yaml", ".toml", ".cfg",
                 ".html", ".css", ".in", ".src"}  # fmt: skip


def _books() -> list[str]:
    docs = []
    for path in sorted((SHARED / "books" / "gutenberg").glob("*.txt")):
        raw = path.read_bytes()
        try:
            docs.append(raw.decode("utf-8-sig"))
        except UnicodeDecodeError:
            docs.append(raw.decode("latin-1"))
    return [d.replace("\r\n", "\n") for d in docs]


def _web() -> list[str]:
    docs = []
    for path in sorted((SHARED / "web" / "jsonl" / "dolma").glob("*.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            docs.extend(json.loads(line)["text"] for line in handle if line.strip())
    by_lang: dict[str, list[str]] = {}
    with open(SHARED / "multilingual" / "lingua" / "sentences.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            by_lang.setdefault(row["lang"], []).append(row["text"])
    for sentences in by_lang.values():  # pages of 25 sentences in one language
        docs.extend(" ".join(sentences[i : i + 25]) for i in range(0, len(sentences), 25))
    return docs


def _code() -> list[str]:
    docs = []
    for path in sorted((SHARED / "code" / "repos").rglob("*")):
        if path.is_file() and path.suffix.lower() in CODE_SUFFIXES and path.stat().st_size < 2**20:
            try:
                docs.append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                continue
    return docs


def build_corpus(folder: Path, total_mb: float) -> dict[str, list[str]]:
    """Write ``folder/<source>/part-*.jsonl`` (cycled to ~total/3 MB each); return held-back docs."""
    held_out = {}
    for name, docs in (("web", _web()), ("books", _books()), ("code", _code())):
        held_out[name] = [d for i, d in enumerate(docs) if i % HOLD_EVERY == HOLD_EVERY // 2][:300]
        kept = [d for i, d in enumerate(docs) if i % HOLD_EVERY != HOLD_EVERY // 2]
        target = total_mb * 1e6 / 3
        (folder / name).mkdir(parents=True, exist_ok=True)
        written, index, shard, handle = 0, 0, 0, None
        while written < target:
            if handle is None or handle.tell() > target / 4:
                if handle:
                    handle.close()
                handle = (folder / name / f"part-{shard:02d}.jsonl").open("w", encoding="utf-8")
                shard += 1
            text = kept[index % len(kept)]
            handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
            written += len(text.encode("utf-8"))
            index += 1
        handle.close()
    return held_out


def child(mode: str, sample_list: Path, result: Path, threads: int, vocab: int) -> None:
    """Train once in this (fresh) process; write its CPU seconds (every thread of the
    process, training alone: imports and start-up excluded), wall time and peak RSS."""
    from gristmill.tokenize.config import TokenizerConfig
    from gristmill.tokenize.spm_backend import trainer_options
    from gristmill.tokenize.train import iter_sample, train_model

    urls = tuple(json.loads(sample_list.read_text()))
    backend = "huggingface" if mode == "hf" else "sentencepiece"
    config = TokenizerConfig(backend=backend, vocab_size=vocab)
    started, cpu_started = time.perf_counter(), time.process_time()
    if mode == "spm-direct":
        import sentencepiece as spm

        with tempfile.TemporaryDirectory() as tmp:
            spm.SentencePieceTrainer.train(
                input=",".join(urls),
                model_prefix=f"{tmp}/direct",
                **trainer_options(config, threads),
            )
            files = {"tokenizer.model": Path(f"{tmp}/direct.model").read_bytes()}
    else:
        files = train_model(config, iter_sample(urls), threads)
    cpu = time.process_time() - cpu_started
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, data in files.items():
        (result.parent / f"{mode}-{name}").write_bytes(data)
    result.write_text(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak}))


def vocabulary(model_file: Path) -> list[tuple[str, float]]:
    """A sentencepiece model's pieces and scores, in id order (the file itself also records
    the trainer's input paths, which differ between the two ways of training)."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=model_file.read_bytes())
    return [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]


def run_child(mode: str, sample_list: Path, threads: int, vocab: int) -> dict:
    result = sample_list.parent / f"{mode}.json"
    subprocess.run(
        [sys.executable, __file__, "--child", mode, "--sample-list", str(sample_list),
         "--result", str(result), "--threads", str(threads), "--vocab", str(vocab)],
        check=True,
    )  # fmt: skip
    return json.loads(result.read_text())


def measure_encoding(tokenizer, held_out: dict[str, list[str]], extra: list[str]) -> dict:
    texts = [t for docs in held_out.values() for t in docs] + extra
    size = sum(len(t.encode("utf-8")) for t in texts)
    started = time.process_time()  # CPU time: one thread, robust to other load
    for offset in range(0, len(texts), 256):
        tokenizer.encode_batch(texts[offset : offset + 256], 1)
    mb_per_s = size / 1e6 / (time.process_time() - started)
    per_source, exact, total = {}, 0, 0
    for source, docs in held_out.items():
        encoded = tokenizer.encode_batch(docs, 1)
        tokens = sum(len(ids) for ids in encoded)
        per_source[source] = sum(len(d.encode("utf-8")) for d in docs) / tokens
        exact += sum(tokenizer.decode(ids) == d for ids, d in zip(encoded, docs, strict=True))
        total += len(docs)
    return {"mb_per_s_per_core": mb_per_s, "bytes_per_token": per_source,
            "roundtrip_exact": exact, "held_out_docs": total}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=100, help="corpus size (MB of text)")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", choices=["spm-direct", "spm", "hf"])
    parser.add_argument("--sample-list", type=Path)
    parser.add_argument("--result", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.sample_list, args.result, args.threads, args.vocab)
        return

    import yaml
    from cluster_cpu import cluster_cpu_seconds

    from gristmill.pipelines.config import load_config
    from gristmill.pipelines.runner import dask_client, run_pipeline
    from gristmill.tokenize.model import tokenizer_from_bytes

    work = args.workdir or Path(tempfile.mkdtemp(prefix="gristmill-bench-tok-"))
    held_out = build_corpus(work / "corpus", args.mb)
    config = {
        "output": str(work / "out"),
        "sources": [{"name": n, "paths": [str(work / "corpus" / n)], "format": "jsonl"}
                    for n in ("web", "books", "code")],
        "tokenizer": {"vocab_size": args.vocab, "threads": args.threads,
                      "sample": {"max_bytes": int(args.mb * 2e6), "held_out_docs": 0}},
    }  # fmt: skip
    (work / "p.yaml").write_text(yaml.safe_dump(config))
    with dask_client(2) as client:
        client.wait_for_workers(2)
        started, cpu_started = time.perf_counter(), cluster_cpu_seconds(client)
        run = run_pipeline(load_config(work / "p.yaml"), client, resume=False)
        pipeline_s = time.perf_counter() - started
        pipeline_cpu_s = cluster_cpu_seconds(client) - cpu_started
    training = run["tokenizer"]["training"]
    encoding = run["tokenizer"]["encoding"]
    samples = sorted(
        str(p) for p in (work / "out" / "work" / "tokenizer" / "sample").rglob("*.txt")
    )
    sample_list = work / "samples.json"
    sample_list.write_text(json.dumps(samples))
    print(f"corpus {sum(s['bytes'] for s in encoding['sources'].values()) / 1e6:.1f} MB; sample "
          f"{training['sample']['bytes'] / 1e6:.1f} MB in {training['sample']['lines']:,} lines; "
          f"pipeline {pipeline_cpu_s:.1f} s CPU (workers and client), {pipeline_s:.1f} s wall (sampling {training['sample_s']:.1f} s, training task "
          f"{training['train_s']:.1f} s, encoding {encoding['wall_s']:.1f} s)")  # fmt: skip

    timings: dict[str, dict] = {}
    for mode in ("spm-direct", "spm", "spm-direct", "spm", "hf"):  # interleaved, best of two
        result = run_child(mode, sample_list, args.threads, args.vocab)
        if mode not in timings or result["cpu_s"] < timings[mode]["cpu_s"]:
            timings[mode] = result
    for mode, t in timings.items():
        print(f"train {mode:10s} {t['cpu_s']:7.2f} s CPU  {t['wall_s']:7.2f} s wall  "
              f"peak RSS {t['peak_rss_mb']:5.0f} MB")  # fmt: skip
    same_model = vocabulary(work / "spm-tokenizer.model") == vocabulary(
        work / "spm-direct-tokenizer.model"
    )
    overhead = timings["spm"]["cpu_s"] / timings["spm-direct"]["cpu_s"]
    print(f"gristmill sentencepiece path / direct: {overhead:.3f} CPU "
          f"({timings['spm']['wall_s'] / timings['spm-direct']['wall_s']:.3f} wall); "
          f"same pieces and scores: {same_model}")  # fmt: skip
    hf_speedup = timings["spm"]["cpu_s"] / timings["hf"]["cpu_s"]

    extra = []
    with open(sorted((work / "corpus" / "web").glob("*.jsonl"))[0], encoding="utf-8") as handle:
        for line in handle:
            extra.append(json.loads(line)["text"])
            if sum(map(len, extra)) > 10e6:
                break
    spm_model = (work / "out" / "tokenizer" / "tokenizer.model").read_bytes()
    hf_model = (work / "hf-tokenizer.json").read_bytes()
    results = {
        "sentencepiece": measure_encoding(tokenizer_from_bytes("sentencepiece", spm_model), held_out, extra),
        "huggingface": measure_encoding(tokenizer_from_bytes("huggingface", hf_model), held_out, extra),
    }  # fmt: skip
    for backend, r in results.items():
        bpt = " ".join(f"{s}={v:.3f}" for s, v in r["bytes_per_token"].items())
        print(
            f"{backend:13s} encode {r['mb_per_s_per_core']:.2f} MB/s/core; bytes/token {bpt}; "
            f"round trip {r['roundtrip_exact']}/{r['held_out_docs']}"
        )
    print(
        f"pipeline encoding (sentencepiece, {encoding['shards']} shards on 2 workers): "
        f"{encoding['mb_per_s_per_core']} MB/s per core, {encoding['mb_per_s']} MB/s wall"
    )
    exact = all(r["roundtrip_exact"] == r["held_out_docs"] for r in results.values())
    spm_bpt = results["sentencepiece"]["bytes_per_token"]
    print(
        f"RESULT overhead_vs_spm={overhead:.3f} spm_same_model={int(same_model)} "
        f"hf_train_speedup={hf_speedup:.2f} roundtrip_exact={int(exact)} "
        f"bytes_per_token={sum(spm_bpt.values()) / len(spm_bpt):.3f}"
    )


if __name__ == "__main__":
    main()
