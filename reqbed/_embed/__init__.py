"""Embeddings: one module per family (``titan``, ``cohere``, ``nova``), the registry and the pure plan
(``plan``), and the public result type (``result.Embeddings``).

This package's ``__init__`` imports nothing, so ``import reqbed`` (which re-exports ``Embeddings``)
stays light; ``reqbed._embed.plan`` loads the families on first use.
"""
