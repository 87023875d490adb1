"""``rag bench``: what a question costs, measured in one run, as ratios to the encoder.

:mod:`.inprocess` times the bare encoder and every retrieval leg in this process;
:mod:`.http` starts a real ``rag serve`` on loopback and loads it (one client, then 32);
:mod:`.report` puts the figures side by side with the targets they answer to.
"""
