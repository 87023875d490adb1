"""Measurements that print numbers: run by ``rag bench`` or by hand, never asserted in timed
tests.

:mod:`.inprocess` times the bare encoder and every retrieval leg in this process;
:mod:`.http` starts a real ``rag serve`` on loopback and loads it (one client, then 32);
:mod:`.run` and :mod:`.report` make the ``rag bench`` report with its targets;
:mod:`.scale` and :mod:`.hashing` measure synthetic corpora of 1k–100k passages.
"""
