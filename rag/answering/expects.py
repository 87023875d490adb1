"""What a question's form says its answer must hold, read before anything is ranked.

- "How much …?" and "How many …?" want a figure; "When …?" and "In what year …?" want a
  date. A sentence without one does not answer, however close its topic ("How much does
  Pakistan spend on defence?" is not answered by a sentence on defence cooperation).
- The words right after "how much"/"how many" name what is counted ("How much *wheat*"):
  the question's focus. A brief that never mentions it cannot give the figure.
- "What does the brief recommend?", "What should the U.S. do?" ask for what the brief
  argues should happen: :func:`wants_prescription`.
- "the brief", "the author", "this paper" point at the document, not at its topic: left out
  of a content question's search, they no longer pull the title page to the top.
"""

from __future__ import annotations

import re
from typing import Literal

Expected = Literal["figure", "date"]

_FIGURE_Q = re.compile(r"\bhow\s+(?:much|many)\b|\bwhat\s+(?:percentage|share|amount)\b", re.I)
_DATE_Q = re.compile(
    r"^\W*(?:and\s+)?when\b|\b(?:what|which|in\s+what|in\s+which)\s+(?:year|month|decade|date)\b",
    re.I,
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|double[sd]?"
    r"|twice|triple[sd]?|half|quarter|percent|several|tens"
)
_FIGURE = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(
    rf"\b(?:1[6-9]|20)\d\d(?:s|['’]s)?\b|\b(?:{_MONTHS})\b|\b(?:decade|century)\b"
    r"|\b(?:sixties|seventies|eighties|nineties)\b",
    re.I,
)
# Words that close the counted thing: "How many students *study* …" stops at no verb it
# can recognise, but "How much aid *did* …" and "How many *of* …" stop here.
_STOP = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can", "could"}
    | {"will", "would", "should", "must", "might", "may", "of", "in", "on", "for", "to"}
    | {"from", "with", "by", "at", "per", "each", "a", "an", "the", "and", "or", "than"}
    | {"between", "among", "against", "under", "over", "about", "into", "during", "after"}
    | {"before", "since", "toward", "towards", "within", "across", "that", "which", "who"}
)
# Nouns that say what kind of figure is wanted, not what it counts: "How much money" is
# answered by "$19 million" in a brief that never says "money".
_UNITS = frozenset(
    {"money", "funding", "funds", "amount", "number", "numbers", "percent", "percentage"}
    | {"share", "people", "times", "years", "months", "days", "weeks", "hours", "more"}
    | {"less", "fewer", "further", "longer", "bigger", "larger"}
)
# Words of a figure or date question that say what kind of answer it wants, not its topic.
TYPE_WORDS = frozenset(
    {"much", "mani", "year", "month", "day", "week", "time", "date", "number", "amount"}
    | {"percentag", "percent", "share", "annual", "decad", "often"}
)
# Stemmed words of a question's form that the stopword list keeps ("does" → "doe").
FORM_WORDS = frozenset(
    {"do", "doe", "did", "done", "kind", "sort", "type", "mean", "exact", "each"}
)
_PRESCRIPTION_Q = re.compile(
    r"\b(?:recommend\w*|suggest\w*|propos\w*|advi[cs]\w*|prescri\w*|urg(?:e|es|ed)"
    r"|calls?\s+for|way\s+forward|next\s+steps?|should|must|ought|need\s+to|needs\s+to"
    r"|what\s+can\s+be\s+done|policy\s+options?|conclu\w*)\b",
    re.I,
)
# The stemmed words (rag.store.bm25.tokenize) of asking what should be done: a question of
# only these asks for a brief's recommendations as a whole.
PRESCRIPTION_WORDS = frozenset(
    {"recommend", "suggest", "propos", "advis", "advic", "prescrib", "urg", "call", "way"}
    | {"forward", "next", "step", "must", "should", "ought", "need", "done", "conclus", "conclud"}
    | {"futur", "option", "polici", "main", "key", "overal", "say", "think", "argu", "argument"}
)
_TITLE = re.compile(r"\b(?:title[ds]?|headline|subtitle)\b", re.I)
_PRESCRIPTIVE = re.compile(
    r"\b(?:must|should|ought\s+to|needs?\s+to|it\s+is\s+(?:imperative|essential|vital"
    r"|pivotal|crucial|important|necessary|critical)|imperative|recommend\w*"
    r"|(?:is|are|remains?)\s+(?:essential|vital|crucial|pivotal|necessary)|there\s+is\s+a"
    r"\s+(?:growing\s+)?need)\b",
    re.I,
)
# "the brief", "this paper's", "according to the author": the document, not its topic.
# "The author" stays: "What position does the author hold?" is asked of the title page.
_DOCUMENT_WORDS = re.compile(
    r"\b(?:according\s+to|in|from|by)\s+(?:the|this)\s+(?:brief|paper|report|document|author)"
    r"(?:['’]s)?\b|\b(?:the|this)\s+(?:policy\s+)?(?:brief|paper|report|document)(?:['’]s)?\b",
    re.I,
)


def expected(question: str) -> Expected | None:
    """The kind of fact the answer must state, when the question's form asks for one."""
    if _FIGURE_Q.search(question):
        return "figure"
    if _DATE_Q.search(question):
        return "date"
    return None


_YEAR = re.compile(r"\b(?:1[6-9]|20)\d\d(?:s|['’]s)?\b")


def states(text: str, kind: Expected) -> bool:
    """Whether ``text`` states a fact of ``kind``: a date, or a figure (a year alone is
    no figure: "How much does Pakistan spend?" is not answered by "in 1954")."""
    if kind == "date":
        return bool(_DATE.search(text))
    return bool(_FIGURE.search(_YEAR.sub(" ", text)))


_COUNTED = re.compile(r"\bhow\s+(?:much|many)\s+(.*)", re.I)
_DEFINED = re.compile(r"^\W*(?:what|which)\s+(?:is|was|are|were)\s+(?:the|a|an)\s+(.*)", re.I)


def _words_up_to_a_stop(text: str) -> tuple[tuple[str, ...], str]:
    """The words of ``text`` up to the first verb or preposition, and that word."""
    words: list[str] = []
    for word in re.findall(r"[A-Za-z0-9]+(?:[-.'’][A-Za-z0-9]+)*", text):
        if word.lower() in _STOP:
            return tuple(words), word.lower()
        if word.lower() not in _UNITS:
            words.append(word)
    return tuple(words), ""


def counted(question: str) -> tuple[str, ...]:
    """What a "how much"/"how many" question counts, as written ("How much military aid
    did …" → "military", "aid"), units of measure left out. The brief must mention each
    of them to give the figure."""
    match = _COUNTED.search(question)
    return _words_up_to_a_stop(match.group(1))[0] if match else ()


def defined(question: str) -> tuple[str, ...]:
    """What a "What was the …" question asks about, as written ("What was the nuclear deal
    between India and the US?" → "nuclear", "deal"). A brief that mentions none of them
    does not say what it was; one that mentions some may. In "What is the status of …"
    the words name an attribute, the topic comes after: nothing is returned."""
    match = _DEFINED.search(question)
    if not match:
        return ()
    words, stop = _words_up_to_a_stop(match.group(1))
    # "What was the name of the exercise …": an attribute of something, the topic after.
    return () if stop == "of" else words


def wants_prescription(question: str) -> bool:
    """Whether the question asks what should be done: the brief's recommendations ("What
    partnership does the title say should be built?" asks about the title)."""
    return bool(_PRESCRIPTION_Q.search(question)) and not _TITLE.search(question)


def prescriptive(text: str) -> bool:
    """Whether a sentence says what should be done ("must", "it is imperative", …)."""
    return bool(_PRESCRIPTIVE.search(text))


def without_document_words(question: str) -> str:
    """``question`` without the words that point at the document ("What does the brief
    recommend?" → "What does recommend?"): what a content question is searched with."""
    stripped = re.sub(r"\s{2,}", " ", _DOCUMENT_WORDS.sub(" ", question))
    stripped = re.sub(r"\s+([?.!,;:])", r"\1", stripped).strip()
    return stripped if re.search(r"\w", stripped) else question


_SUMMARY = re.compile(
    r"^\W*(?:(?:please|can\s+you|could\s+you|would\s+you)\s+)*(?:please\s+)?"
    r"(?:summari[sz]e|sum\s+up|outline|give\s+(?:me\s+)?(?:a\s+|an\s+)?(?:summary|overview)\s+of"
    r"|(?:a\s+|an\s+)?(?:summary|overview)\s+of)\s+(?P<topic>.+)$"
    r"|^\W*what\s+does\s+the\s+(?:brief|paper|report|document)\s+say\s+(?:about|on)\s+"
    r"(?P<about>.+)$",
    re.I,
)
_SUMMARY_LEAD = re.compile(
    r"^(?:what\s+the\s+(?:brief|paper|report|document)\s+says?\s+(?:about|on)\s+"
    r"|(?:the\s+)?(?:brief['’]s\s+)?(?:section|part|chapter)s?\s+(?:on|about|of|called|titled)\s+"
    r"|the\s+(?:brief|paper|report|document)['’]s\s+)",
    re.I,
)


def summarised(question: str) -> str | None:
    """The topic a request for a summary names ("Summarise what the brief says about
    Afghanistan" → "Afghanistan"; "Summarize the section on security cooperation" →
    "security cooperation"); None for any other question."""
    match = _SUMMARY.match(question.strip())
    if not match:
        return None
    topic = _SUMMARY_LEAD.sub("", (match.group("topic") or match.group("about")).strip())
    topic = topic.strip(" ?.!")
    return topic or None
