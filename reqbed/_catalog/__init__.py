"""The model catalog, aliases, prices and cost: one wing, loaded on first use.

- ``catalog.json``   the data: every model's facts, capabilities, regions, inference-profile prefixes and
                     prices, with ``as_of`` and the AWS pages it was built from (hand-curated; refreshed by
                     ``_build.py`` from Bedrock's control plane)
- ``_types.py``      the msgspec Structs (``ModelInfo``, ``ModelCapabilities``, ``ModelPrices``, ``Cost`` ...)
- ``_store.py``      loading, lookup, ``find``/``list``, aliases and ``resolve_alias`` (pure)
- ``_cost.py``       ``cost_of`` (pure) and ``UsageTotals``
- ``_control_plane.py``  ``ListFoundationModels`` / ``ListInferenceProfiles``: request builders, parsers, merge
- ``_build.py``      ``python -m reqbed._catalog._build``: rebuild ``catalog.json`` when credentials exist

``import reqbed`` imports none of this; ``reqbed.models`` and ``Response.cost`` do, on first use.
"""
