"""The library of briefs as a service changes it: uploads checked and kept
(:mod:`~rag.library.uploads`), changes built and published (:mod:`~rag.library.changes`),
one at a time (:mod:`~rag.library.builds`), behind :class:`Library`."""

from rag.library.builds import BuildQueue, BuildRecord
from rag.library.changes import AddBrief, Builder, Outcome, RemoveBrief
from rag.library.service import Library
from rag.library.uploads import Upload, UploadFolder, take_upload

__all__ = [
    "AddBrief",
    "BuildQueue",
    "BuildRecord",
    "Builder",
    "Library",
    "Outcome",
    "RemoveBrief",
    "Upload",
    "UploadFolder",
    "take_upload",
]
