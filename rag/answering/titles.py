"""A chat's title from its first question, without a model: a noun phrase of three to five
words naming the question's topic, in title case.

``"What did the U.S. commit to higher education in Pakistan?"`` → ``"U.S. Commitment to
Higher Education"``; ``"Which negotiations did Islamabad help broker?"`` → ``"Negotiations
Brokered by Islamabad"``; ``"Who edited the brief?"`` → ``"Editor of the Brief"``.

The question's verb becomes a noun (a small table of the verbs questions about policy briefs
use; a verb it does not know leaves the words as asked), requests ("Summarise what the brief
says about …") are taken off, and a trailing phrase that makes the title too long is cut at
its preposition.
"""

from __future__ import annotations

import re

MIN_WORDS = 3
MAX_WORDS = 5
FALLBACK = "Question About the Briefs"

# verb → (its noun, the preposition that joins a direct object to that noun).
_NOUNS: dict[str, tuple[str, str]] = {
    "achieve": ("achievements", "in"),
    "address": ("response", "to"),
    "affect": ("effect", "on"),
    "agree": ("agreement", "on"),
    "allocate": ("allocation", "to"),
    "announce": ("announcement", "of"),
    "begin": ("start", "of"),
    "broker": ("brokering", "of"),
    "buy": ("purchase", "of"),
    "call": ("call", "for"),
    "cause": ("causes", "of"),
    "change": ("change", "in"),
    "commit": ("commitment", "to"),
    "conduct": ("conduct", "of"),
    "cooperate": ("cooperation", "on"),
    "describe": ("description", "of"),
    "discuss": ("discussion", "of"),
    "do": ("actions", "on"),
    "edit": ("editing", "of"),
    "end": ("end", "of"),
    "establish": ("establishment", "of"),
    "expect": ("expectations", "for"),
    "export": ("exports", "to"),
    "face": ("challenges", "for"),
    "facilitate": ("facilitation", "of"),
    "fight": ("fight", "against"),
    "focus": ("focus", "on"),
    "fund": ("funding", "for"),
    "give": ("aid", "to"),
    "help": ("role", "in"),
    "hold": ("holding", "of"),
    "impact": ("impact", "on"),
    "import": ("imports", "from"),
    "improve": ("improvement", "of"),
    "increase": ("increase", "in"),
    "influence": ("influence", "on"),
    "invade": ("invasion", "of"),
    "invest": ("investment", "in"),
    "launch": ("launch", "of"),
    "lead": ("outcome", "of"),
    "meet": ("meeting", "with"),
    "mean": ("meaning", "for"),
    "offer": ("offer", "to"),
    "plan": ("plans", "for"),
    "play": ("role", "in"),
    "propose": ("proposals", "for"),
    "provide": ("provision", "of"),
    "publish": ("publication", "of"),
    "pursue": ("pursuit", "of"),
    "recommend": ("recommendations", "for"),
    "reduce": ("reduction", "of"),
    "register": ("registration", "of"),
    "reverse": ("reversal", "of"),
    "say": ("views", "on"),
    "seek": ("pursuit", "of"),
    "sell": ("sale", "of"),
    "shift": ("shift", "in"),
    "sign": ("signing", "of"),
    "strengthen": ("strengthening", "of"),
    "suggest": ("suggestions", "for"),
    "support": ("support", "for"),
    "trade": ("trade", "with"),
    "visit": ("visit", "to"),
    "want": ("aims", "for"),
    "withdraw": ("withdrawal", "from"),
    "work": ("work", "on"),
    "write": ("writing", "of"),
}
# "Who edited the brief?" asks for a person: the agent noun.
_AGENTS = {
    "edit": "editor",
    "write": "author",
    "publish": "publisher",
    "lead": "leader",
    "fund": "funder",
    "visit": "visitor",
    "broker": "broker",
    "sign": "signatories",
}
_IRREGULAR = {  # base → (past, past participle)
    "begin": ("began", "begun"),
    "buy": ("bought", "bought"),
    "do": ("did", "done"),
    "fight": ("fought", "fought"),
    "give": ("gave", "given"),
    "hold": ("held", "held"),
    "lead": ("led", "led"),
    "mean": ("meant", "meant"),
    "meet": ("met", "met"),
    "pay": ("paid", "paid"),
    "say": ("said", "said"),
    "seek": ("sought", "sought"),
    "sell": ("sold", "sold"),
    "withdraw": ("withdrew", "withdrawn"),
    "write": ("wrote", "written"),
}
_DOUBLED = frozenset({"commit", "plan", "ship"})


def _past(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb][1]
    if verb in _DOUBLED:
        return verb + verb[-1] + "ed"
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in ("a", "e", "o", "u"):
        return verb[:-1] + "ied"
    return verb + "ed"


def _gerund(verb: str) -> str:
    if verb in _DOUBLED:
        return verb + verb[-1] + "ing"
    return (verb[:-1] if verb.endswith("e") and not verb.endswith("ee") else verb) + "ing"


def _forms() -> dict[str, str]:
    """Every form of a known verb (visit, visits, visited, visiting) → its base."""
    forms: dict[str, str] = {}
    for verb in _NOUNS:
        past = _IRREGULAR[verb][0] if verb in _IRREGULAR else _past(verb)
        third = verb + ("es" if verb.endswith(("s", "sh", "ch", "o")) else "s")
        stem = verb[:-1] if verb.endswith("e") and verb != "see" else verb
        for form in (verb, third, past, _past(verb), stem + "ing"):
            forms.setdefault(form, verb)
    return forms


_BASE = _forms()

_HOW_MUCH = r"(?:\s+(?:much|many|large|long|big|far|often))?"
_WH = rf"(?:what|which|who|whom|whose|when|where|why|how{_HOW_MUCH})"
_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|might|may)"
# Requests that say how to answer, not what about: taken off the front.
_REQUEST_RE = re.compile(
    r"^(?:(?:and|but|so|also|then|ok|okay|please|now)\b[\s,]*)*"
    r"(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:(?:summari[sz]e|describe|explain|outline|list|tell\s+me|give\s+me|show\s+me)"
    r"(?:\s+(?:about|on))?\s+)?"
    r"(?:(?:what|how)\s+(?:does\s+|do\s+)?(?:the\s+)?(?:brief|briefs|paper|author|report)"
    r"\s+(?:says?|said|writes?|notes?|describes?)\s+(?:about|on|of|regarding)?\s*)?",
    re.IGNORECASE,
)
_QUESTION_RE = re.compile(
    rf"^(?P<wh>{_WH})\b\s*(?P<head>.*?)\s*\b(?P<aux>{_AUX})\s+(?P<rest>.+)$", re.IGNORECASE
)
_YES_NO_RE = re.compile(rf"^(?P<aux>{_AUX})\s+(?P<rest>.+)$", re.IGNORECASE)
_MODALS = frozenset({"should", "must", "could", "would", "will", "can", "might", "may"})
_HOW_RE = re.compile(r"^(?:how|why|whether|if)\s+(?P<rest>.+)$", re.IGNORECASE)
_BE = frozenset({"is", "are", "was", "were"})
_WHO_RE = re.compile(r"^(?:who|what)\s+(?P<verb>[a-z]+)\s+(?P<rest>.+)$", re.IGNORECASE)
# What a "how large is …" question asks of its topic.
_MEASURES = {
    "much": "amount of",
    "many": "number of",
    "large": "size of",
    "big": "size of",
    "long": "duration of",
    "far": "extent of",
    "often": "frequency of",
}
_SUBJECT_DROPPED = frozenset(
    {"it", "they", "he", "she", "this", "that", "the brief", "the paper", "the report"}
    | {"the author", "the authors", "brief", "you", "i", "we"}
)
_PREPOSITIONS = frozenset(
    {"about", "against", "among", "at", "between", "by", "during", "for", "from", "in"}
    | {"into", "of", "on", "over", "since", "through", "to", "toward", "towards", "under"}
    | {"with", "within", "without", "after", "before", "amid", "across"}
)
_SMALL = _PREPOSITIONS | frozenset({"a", "an", "and", "as", "but", "nor", "or", "the", "vs"})
_ADVERBS = frozenset({"eventually", "actually", "really", "currently", "recently", "ever"})


def _words(text: str) -> list[str]:
    return [w for w in text.split() if w.lower() not in _ADVERBS]


def _article_off(words: list[str]) -> list[str]:
    return words[1:] if words and words[0].lower() in ("the", "a", "an") else words


def _verb_at(words: list[str], aux: str) -> int | None:
    """Where the verb of ``subject verb rest`` is: the first known verb form after the
    subject's first word; after a form of "be", only an "-ing" or "-ed" form (in "What is
    the trade deficit?" "trade" is no verb)."""
    for i, word in enumerate(words[1:], start=1):
        base = _BASE.get(word.lower())
        if base and (aux not in _BE or word.lower() != base):
            return i
    return None


Phrase = tuple[list[str], list[str]]  # (a subject that may go when too long, the rest)


def _nominal(subject: list[str], verb: str, rest: list[str]) -> Phrase:
    """``the U.S.`` + ``commit`` + ``to higher education`` → ``U.S. commitment to higher
    education``."""
    noun, joiner = _NOUNS[verb]
    # "recommend the U.S. should do …": what is recommended for whom is enough.
    modal = next((i for i, w in enumerate(rest) if w.lower() in _MODALS), None)
    rest = rest[:modal] if modal is not None else rest
    subject = [] if " ".join(subject).lower() in _SUBJECT_DROPPED else _article_off(subject)
    if rest and rest[0].lower() in _BASE and rest[0].lower() != verb:
        # "help broker the talks": the second verb says what was done.
        noun, joiner = _NOUNS[_BASE[rest[0].lower()]]
        rest = rest[1:]
    later = next((i for i, w in enumerate(rest) if w.lower() in _BASE), None)
    if verb == "help" and later is not None:
        # "Pakistan help the U.S. end the Cold War" → "Pakistan's role in ending the Cold War"
        rest = [_gerund(_BASE[rest[later].lower()]), *rest[later + 1 :]]
    if rest and rest[0].lower() not in _PREPOSITIONS:
        rest = [joiner, *rest]
    if noun == "role" and subject and rest and rest[0].lower() not in _PREPOSITIONS:
        rest = [joiner, *rest]
    if noun == "role" and subject:
        subject = [*subject[:-1], subject[-1] + ("'" if subject[-1].endswith("s") else "'s")]
    return subject, [noun, *rest]


def _phrase(text: str) -> Phrase:
    """The question turned into the words of a noun phrase (not yet cut or cased)."""
    asked = _QUESTION_RE.match(text) or _YES_NO_RE.match(text)
    if asked:
        wh = (asked.groupdict().get("wh") or "").lower().split()
        head = _article_off(_words(asked.groupdict().get("head") or ""))
        rest = _words(asked["rest"])
        measure = _MEASURES.get(wh[-1]) if len(wh) > 1 else None
        verb_at = _verb_at(rest, asked["aux"].lower())
        if measure and verb_at is None:
            return [], [*measure.split(), *rest]
        if verb_at is not None:
            subject, verb, after = rest[:verb_at], _BASE[rest[verb_at].lower()], rest[verb_at + 1 :]
            if head and wh and wh[0] in ("which", "what"):
                # "Which negotiations did Islamabad help broker" → "negotiations brokered by
                # Islamabad".
                if after and after[0].lower() in _BASE:
                    verb, after = _BASE[after[0].lower()], after[1:]
                if verb == "play" and head[-1].lower() == "role":
                    return _nominal(subject, verb, after)
                done = [*head, _past(verb)]
                if " ".join(subject).lower() in _SUBJECT_DROPPED:
                    return [], [*done, *after]
                return [], [*done, "by", *_article_off(subject), *after]
            return _nominal(subject, verb, after)
        if head and wh and wh[0] in ("which", "what"):
            return [], [*head, *_article_off(rest)]
        return [], _article_off(rest)
    how = _HOW_RE.match(text)
    if how:
        # "(explain) how the U.S.-China competition affects Pakistan"
        rest = _words(how["rest"])
        verb_at = _verb_at(rest, "do")
        if verb_at is not None:
            return _nominal(rest[:verb_at], _BASE[rest[verb_at].lower()], rest[verb_at + 1 :])
    who = _WHO_RE.match(text)
    if who and (acted := _BASE.get(who["verb"].lower())):
        rest = _words(who["rest"])
        agent = _AGENTS.get(acted)
        if agent:
            return [], ([agent, "of", *rest] if rest[0].lower() != "of" else [agent, *rest])
        return _nominal([], acted, rest)
    return [], _article_off(_words(text))


def _cuts(words: list[str]) -> list[int]:
    """Where a trailing prepositional phrase may be cut: not inside a name ("War on
    Terror"), and leaving at least :data:`MIN_WORDS` words."""
    return [
        i
        for i, w in enumerate(words)
        if w.lower() in _PREPOSITIONS
        and i >= MIN_WORDS
        and not (words[i - 1][:1].isupper() and i + 1 < len(words) and words[i + 1][:1].isupper())
    ]


def _cut(subject: list[str], core: list[str]) -> list[str]:
    """At most :data:`MAX_WORDS`: a trailing prepositional phrase goes first ("U.S.
    Commitment to Higher Education in Pakistan" → "… Higher Education"), then the articles
    inside, then the subject, then words from the end."""
    words = [*subject, *core]
    while len(words) > MAX_WORDS and (cuts := _cuts(words)):
        words = words[: cuts[-1]]
    if len(words) > MAX_WORDS:
        words = [w for i, w in enumerate(words) if not i or w.lower() != "the"]
    if len(words) > MAX_WORDS and subject and len(words) - len(subject) >= MIN_WORDS:
        words = words[len(subject) :]
        while len(words) > MAX_WORDS and (cuts := _cuts(words)):
            words = words[: cuts[-1]]
    words = words[:MAX_WORDS]
    while len(words) > 1 and words[-1].lower() in _SMALL:
        words.pop()
    return words


def _cased(words: list[str]) -> str:
    return " ".join(
        w if (i and w.lower() in _SMALL) or not w.islower() else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ).strip("\"'“”‘’")


def title_of(question: str) -> str:
    """A chat title of three to five words naming the question's topic."""
    first = question.strip().splitlines()[0] if question.strip() else ""
    first = re.sub(r"[\s?!.:;,]+$", "", first)
    # The first clause names the topic: "Which negotiations did …, and what …?"
    first = re.split(r"[,;:(]|\s+and\s+(?=(?:what|which|who|when|where|why|how)\b)", first)[0]
    topic = _REQUEST_RE.sub("", first.strip(), count=1).strip()
    words = _cut(*_phrase(topic)) if len(topic.split()) > 1 else []
    if len(words) < MIN_WORDS and words:
        # "Tell me about the Strategic Dialogue" → "Overview of the Strategic Dialogue".
        the = ["the"] if f"the {' '.join(words)}".lower() in topic.lower() else []
        words = _cut([], ["overview", "of", *the, *words])
    if len(words) < MIN_WORDS or not any(w[:1].isalnum() for w in words):
        return FALLBACK
    return _cased(words)
