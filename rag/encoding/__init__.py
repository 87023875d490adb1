"""Encoding: text into unit-length vectors, by one of several registered backends.

- :mod:`.protocol` — :class:`~.protocol.Encoder`, the one interface the rest of the code sees;
- :mod:`.backends` — the registry (``RAG_ENCODER``: ``onnx-int8``, ``onnx``, ``torch``, and
  ``auto``) and :func:`~.backends.load_encoder`;
- :mod:`.torch_encoder` — sentence-transformers (torch loads on first use);
- :mod:`.onnx_encoder` and :mod:`.onnx_export` — the ONNX Runtime encoders, and the one-time
  export (float32 and int8) of the bundled weights they run;
- :mod:`.model_dir` — a local model folder checked, named and its weights hashed;
- :mod:`.content` — which word pieces carry content (the tokens late interaction compares);
- :mod:`.batching` — concurrent questions sharing encoder calls in a server.

Nothing here imports the index store: the store depends on encoding, never the reverse.
"""
