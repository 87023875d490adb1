"""Retrieval evaluation whose gold answers are evidence quotes, not chunk ids, so the same
Q&A set scores any chunking of the corpus."""
