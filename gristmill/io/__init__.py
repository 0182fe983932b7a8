"""Readers (WARC/ARC, WET, JSONL, Parquet/Arrow, books, code) and atomic shard writers."""
