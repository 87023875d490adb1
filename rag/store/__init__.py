"""The index store: what a build holds, how it is written, published, checked and loaded.

- :mod:`.index` — :func:`~.index.build_index`, :func:`~.index.load_index`,
  :func:`~.index.check_fresh`: parse, cut, embed and publish; load and verify;
- :mod:`.artifacts` — the files of a build, described once (save and read);
- :mod:`.manifest` — the manifest beside them (sources, model, parameters, checksums);
- :mod:`.publish` — atomic publication through a link, and what an index path may replace;
- :mod:`.handle` — :class:`~.handle.IndexHandle`, one loaded build, immutable;
- :mod:`.passage_table` — :class:`~.passage_table.PassageTable`, a build's passages as
  columns (a passage built when read);
- :mod:`.vectors` — the FAISS indexes (flat, or HNSW above a size);
- :mod:`.late` — the token table for late interaction (int8) and MaxSim over it;
- :mod:`.bm25` — the lexical index (bm25s, saved without pickle);
- :mod:`.ranks` — top-k and per-segment maxima in time that follows k, not the corpus;
- :mod:`.reload` — a running server serving a newly published build;
- :mod:`.export` — a build's vectors and payload in Qdrant's or OpenSearch's bulk format.
"""
