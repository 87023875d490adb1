"""HTTP shell over the :mod:`rag` library (FastAPI). Build the app with
:func:`api.main.create_app`; nothing heavy loads at import time."""
