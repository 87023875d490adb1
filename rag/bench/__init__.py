"""Measurements that print numbers: they are run by hand or by `rag bench`, never asserted
in timed tests."""
