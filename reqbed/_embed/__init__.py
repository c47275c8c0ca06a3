"""Embeddings: one module per family (``titan``, ``cohere``, ``nova``), the registry and the pure plan
(``plan``), the public result type (``result.Embeddings``), and the verb on the operations core
(``operation``: ``Embed``, one ``EmbedRequest`` per request through ``Client._call`` / ``_acall``,
bounded fan-out, one deadline).

This package's ``__init__`` imports nothing, so ``import reqbed`` (which re-exports ``Embeddings``)
stays light; ``reqbed._embed.plan`` loads the families on first use.
"""
