"""Follow-up questions: "and when was that?" means nothing alone, so it is searched together
with the user turn before it."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Pronouns that mean nothing without an earlier turn ("and when was that?").
_ANAPHORA = frozenset(
    {"it", "its", "that", "they", "them", "their", "he", "him", "his", "she", "her"}
    | {"those", "these", "there", "then", "such"}
)
_LEADS = ("and ", "and?", "but ", "also ", "so ", "what about ", "how about ")
_MAX_WORDS = 8


def resolve_query(turns: Sequence[str]) -> str:
    """The retrieval query for the last user turn (``turns`` oldest first)."""
    turns = [t.strip() for t in turns if t and t.strip()]
    if not turns:
        return ""
    last = turns[-1]
    if len(turns) < 2:
        return last
    lowered = last.casefold()
    words = re.findall(r"[a-z']+", lowered)
    follow_up = lowered.startswith(_LEADS) or (
        len(words) <= _MAX_WORDS and any(w in _ANAPHORA for w in words)
    )
    return f"{turns[-2]} {last}" if follow_up else last
