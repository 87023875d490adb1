"""Cutting passages: a parsed brief into token-sized passages, and what of each is embedded.

- :mod:`.passages` — :class:`~.passages.ChunkParams` and :func:`~.passages.chunk_documents`:
  paragraphs packed into passages of at most ``max_tokens``, a sentence of overlap, every
  passage keeping its section and the footnotes it cites;
- :mod:`.sentences` — sentence splitting (pysbd on bounded windows), markers kept on their
  sentence;
- :mod:`.tokens` — the tokenizer (tiktoken's offline ``cl100k_base``) that counts them;
- :mod:`.represent` — the text embedded for a passage, its sentences and the front matter.
"""
