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


# Words of a follow-up that point back or join on, not words of its own topic.
_FILLER = _ANAPHORA | frozenset(
    {"and", "but", "so", "also", "about", "what", "how", "a", "an", "the", "of", "to", "in"}
    | {"on", "for", "did", "do", "does", "was", "were", "is", "are", "be", "been", "has"}
    | {"have", "had", "can", "could", "would", "will", "should", "this", "i", "me", "you"}
)


def own_words(turn: str) -> str:
    """A follow-up's own words: ``"and when was it published?"`` → ``"when published"``.

    Retrieval searches a follow-up with the turn before it; what the answer quotes must
    still answer the new turn, not repeat the old one, and these words say what it asks."""
    return " ".join(w for w in re.findall(r"[\w'.-]+", turn.casefold()) if w not in _FILLER)


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
