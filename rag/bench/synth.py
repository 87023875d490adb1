"""A deterministic library of same-topic Markdown briefs, for scale measurements.

Each brief has `---` front matter, `##` sections, paragraphs of three or four sentences
(one passage each at the default 200 tokens) and `[^n]` footnotes with their definitions.
Sentences come from templates filled with names, places, sectors, sums and years drawn per
brief from a seeded generator, so every brief is distinct and the output is reproducible
(the same arguments give the same bytes). No downloads. Used by ``rag bench --library``
and ``scripts/synth_corpus.py``.
"""

from __future__ import annotations

import random
from pathlib import Path

PARAGRAPHS_PER_SECTION = 8
SECTIONS = 6  # 48 paragraphs, about 49 passages with the front matter

_SYLLABLES = [
    "ka",
    "ri",
    "to",
    "me",
    "sa",
    "lo",
    "vu",
    "ne",
    "da",
    "pi",
    "ra",
    "zo",
    "ku",
    "te",
    "mi",
    "lan",
    "dor",
    "vel",
    "sha",
    "rin",
    "bar",
    "ost",
    "ek",
]
_SECTORS = (
    "energy",
    "water security",
    "trade",
    "higher education",
    "counter-terrorism",
    "public health",
    "climate adaptation",
    "digital infrastructure",
    "agriculture",
    "maritime security",
    "migration",
    "mining",
)
_SECTIONS = (
    "Background",
    "Economic Ties",
    "Security Cooperation",
    "Regional Dynamics",
    "Challenges",
    "Way Forward",
    "Institutional Links",
    "Public Opinion",
)
_TEMPLATES = (
    "In {year}, {country} and {partner} signed a {sector} agreement worth ${amount} million.",
    "{person}, the {role} of {org}, visited {city} in {month} {year} to discuss {sector}.",
    "Bilateral trade in {sector} reached ${amount} million in {year}, up {pct} percent.",
    "{org} reported that {pct} percent of projects in {city} were delayed by funding gaps.",
    "The {sector} dialogue between {country} and {partner} resumed after a pause of {n} years.",
    "Analysts at {org} argue that {sector} cooperation depends on stable relations with {partner}.",
    "{person} announced a {n}-year programme to train {amount} officials in {sector}.",
    "A joint task force on {sector} was set up in {city}, led by {person}.",
    "{country} committed ${amount} million to {sector} in {city} over {n} years.",
    "Critics in {city} questioned whether the {sector} plan of {year} met its targets.",
    "The summit in {city} closed with a declaration on {sector} and {sector2}.",
    "By {year}, exports of {sector} services from {country} had grown to ${amount} million.",
    "{org} and {partner} opened {n} offices to coordinate {sector} policy.",
    "Officials from {country} described the {sector} talks with {partner} as frank and useful.",
)
_ROLES = ("minister", "ambassador", "director", "envoy", "chair", "secretary")
_MONTHS = ("January", "March", "May", "June", "August", "October", "December")


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _sentence(rng: random.Random, cast: dict[str, list[str]]) -> str:
    sector, sector2 = rng.sample(_SECTORS, 2)
    text = rng.choice(_TEMPLATES).format(
        year=rng.randint(1990, 2025),
        country=rng.choice(cast["country"]),
        partner=rng.choice(cast["partner"]),
        sector=sector,
        sector2=sector2,
        amount=rng.randint(2, 990),
        person=rng.choice(cast["person"]),
        role=rng.choice(_ROLES),
        org=rng.choice(cast["org"]),
        city=rng.choice(cast["city"]),
        month=rng.choice(_MONTHS),
        pct=rng.randint(3, 80),
        n=rng.randint(2, 12),
    )
    return text[0].upper() + text[1:]


def brief(number: int, seed: int) -> str:
    """One brief as Markdown: front matter, sections, paragraphs, footnotes."""
    rng = random.Random(seed * 1_000_003 + number)
    cast = {
        "country": [f"{_name(rng, 3)}ia" for _ in range(2)],
        "partner": [f"{_name(rng, 2)}land" for _ in range(2)],
        "person": [f"{_name(rng, 2)} {_name(rng, 3)}" for _ in range(4)],
        "org": [f"the {_name(rng, 2)} Institute" for _ in range(2)],
        "city": [_name(rng, 2) + "abad" for _ in range(3)],
    }
    title = f"{cast['country'][0]}–{cast['partner'][0]} Relations: Brief {number}"
    lines = [
        "---",
        f'title: "{title}"',
        f"author: {cast['person'][0]}",
        f"editor: {cast['person'][1]}",
        f"date: {rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(2015, 2025)}",
        "---",
        "",
        f"# {title}",
        "",
    ]
    notes: list[str] = []
    for section in rng.sample(_SECTIONS, SECTIONS):
        lines += [f"## {section}", ""]
        for _ in range(PARAGRAPHS_PER_SECTION):
            sentences = [_sentence(rng, cast) for _ in range(rng.randint(3, 4))]
            if rng.random() < 0.4:
                n = len(notes) + 1
                sentences[-1] += f"[^{n}]"
                notes.append(
                    f'[^{n}]: "{_name(rng, 3)} Report on {rng.choice(_SECTORS).title()}," '
                    f"{rng.choice(cast['org'])[4:]}, {rng.randint(2000, 2025)}, "
                    f"https://example.org/{number}/{n}"
                )
            lines += [" ".join(sentences), ""]
    return "\n".join(lines + notes) + "\n"


def write_corpus(out: Path, passages: int, seed: int = 0) -> int:
    """Write enough briefs for about ``passages`` passages; return how many briefs."""
    per_brief = SECTIONS * PARAGRAPHS_PER_SECTION + 1
    count = max(1, round(passages / per_brief))
    out.mkdir(parents=True, exist_ok=True)
    width = len(str(count))
    for i in range(count):
        (out / f"brief-{i:0{width}d}.md").write_text(brief(i, seed), encoding="utf-8")
    return count
