"""Retrieval: a question's legs (dense, sentences, tokens, BM25, footnotes) over one loaded
build, fused by weighted reciprocal rank.

- :mod:`.retriever` — :class:`~.retriever.Retriever`, :class:`~.retriever.RetrievalParams`,
  the legs and their fusion.
"""
