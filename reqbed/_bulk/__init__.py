"""Bulk work from one process: ``map`` / ``amap`` (many calls, adaptive concurrency) and
``map_jsonl`` (the same, resumable, file to file). See docs/bulk.md.

- ``_aimd``: the adaptive concurrency limit (pure: no clock, no I/O);
- ``_result``: ``MapResult``, ``MapStats``, ``MapProgress``;
- ``_map``: the async runner (anyio) and its sync shell (a blocking portal);
- ``_jsonl``: ``map_jsonl``'s input reader, resume scan and output writer.
"""
