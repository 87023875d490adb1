"""brief-rag: retrieval over policy briefs with footnotes as first-class data.

Importing this package is cheap; models and indexes load only when asked for.
"""

__version__ = "0.1.0"
