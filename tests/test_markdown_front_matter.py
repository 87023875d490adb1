"""Markdown as people write it: pandoc's, Jekyll's and Obsidian's YAML front matter, and
a first heading that is a title only when it heads a title page."""

from pathlib import Path

import pytest

from rag.chunking.represent import front_matter_sentences
from rag.parsing import parse_file

PANDOC = """---
title: "Water, Power and Peace"
subtitle: The Indus Treaty at Sixty-Five
author:
  - Amina Rahman
  - name: John Smith
    affiliation: Institute of Water Studies
editor: Sara Khan
publisher: Centre for River Policy
date: 2024-03-01
abstract: |
  The treaty has survived three wars. This brief asks whether it can survive
  a warming climate.
lang: en-GB
...

# Introduction

The Indus Waters Treaty, signed in 1960, divides six rivers, three to each side, and has
been called the most successful water treaty in the world by many observers.[^1]

# The Climate Question

Glaciers feed the western rivers.

[^1]: "Indus Waters Treaty," *World Bank*, September 19, 1960.
"""

OBSIDIAN = """---
tags: [brief, water]
aliases:
  - Indus brief
author: "[[Amina Rahman]]"
created: 2024-03-01T10:00:00
---
# Rivers of the Indus

The basin feeds nearly three hundred million people, and its management has shaped the
relations of the two states since partition in ways that few other issues have.

## Allocation

The eastern rivers went to India.
"""

JEKYLL = """---
layout: post
title:  "Rivers of the Indus"
date:   2024-03-01 10:00:00 +0000
categories: water policy
author: Amina Rahman
---

The basin feeds nearly three hundred million people.

## Allocation

The eastern rivers went to India.
"""

NO_TITLE_PAGE = """# Introduction

The Indus Waters Treaty, signed in 1960, divides six rivers, three to each side, and has
been called the most successful water treaty in the world by many observers.

# Allocation

The eastern rivers went to India.
"""

TITLE_PAGE = """# Rivers of the Indus

By Amina Rahman

March 1, 2024

# Introduction

The basin feeds nearly three hundred million people.
"""


def parse(tmp_path: Path, text: str, name: str = "brief.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_file(path)


def sections(doc):
    return [s.path for s in doc.sections]


def test_pandoc_yaml_fields_and_every_heading_a_section(tmp_path):
    doc = parse(tmp_path, PANDOC)
    fm = doc.front_matter
    assert doc.title == fm.title == "Water, Power and Peace"
    assert fm.author == "Amina Rahman and John Smith"
    assert fm.editor == "Sara Khan"
    assert fm.institute == "Centre for River Policy" and fm.centre is None
    assert (fm.date, fm.date_text) == ("2024-03-01", "March 1, 2024")
    # The subtitle's comma-free text and the title's comma are not read as an institute.
    assert fm.lines[:3] == (
        "Water, Power and Peace",
        "The Indus Treaty at Sixty-Five",
        "By Amina Rahman and John Smith",
    )
    assert sections(doc) == [
        ("Front Matter",),
        ("Abstract",),
        ("Introduction",),
        ("The Climate Question",),
    ]
    intro = next(p for p in doc.paragraphs if p.section.title == "Introduction")
    assert doc.body[intro.span.start : intro.span.end].startswith("The Indus Waters Treaty,")
    abstract = next(p for p in doc.paragraphs if p.section.title == "Abstract")
    assert "survive a warming climate" in doc.body[abstract.span.start : abstract.span.end]
    assert doc.footnote(1).publisher == "World Bank"


def test_who_wrote_it_is_in_the_searchable_front_matter_passage(tmp_path):
    doc = parse(tmp_path, PANDOC)
    front = next(p for p in doc.paragraphs if p.kind == "front_matter")
    assert "By Amina Rahman and John Smith" in doc.body[front.span.start : front.span.end]
    said = " ".join(front_matter_sentences(doc.front_matter))
    assert "written by the author (writer) Amina Rahman and John Smith" in said
    assert "edited by the editor Sara Khan" in said
    assert "Centre for River Policy" in said and "March 1, 2024" in said


def test_obsidian_heading_title_and_linked_author(tmp_path):
    doc = parse(tmp_path, OBSIDIAN)
    assert doc.title == "Rivers of the Indus"
    assert doc.front_matter.author == "Amina Rahman"
    assert sections(doc) == [("Front Matter",), ("Allocation",)]
    # The prose under the title is body text, not title-page fields.
    assert doc.front_matter.centre is None
    assert any(
        p.kind == "body" and "three hundred million" in doc.body[p.span.start : p.span.end]
        for p in doc.paragraphs
    )
    assert "brief" not in doc.front_matter.lines  # tags are not shown


def test_jekyll_timestamp_date_and_no_heading_title(tmp_path):
    doc = parse(tmp_path, JEKYLL)
    assert doc.title == "Rivers of the Indus"
    assert doc.front_matter.author == "Amina Rahman"
    assert (doc.front_matter.date, doc.front_matter.date_text) == ("2024-03-01", "March 1, 2024")
    assert sections(doc) == [("Front Matter",), ("Allocation",)]
    first = next(p for p in doc.paragraphs if p.kind == "body")
    assert first.section.title == "Rivers of the Indus"
    assert "three hundred million" in doc.body
    assert "layout" not in doc.body and "post" not in doc.front_matter.lines


def test_first_heading_over_prose_is_a_section_not_a_title(tmp_path):
    doc = parse(tmp_path, NO_TITLE_PAGE, "indus-notes.md")
    assert doc.title == "indus-notes"  # nothing names it better
    assert doc.front_matter is None
    assert sections(doc) == [("Introduction",), ("Allocation",)]
    assert "divides six rivers, three to each side" in doc.body


def test_first_heading_over_a_title_page_is_the_title(tmp_path):
    doc = parse(tmp_path, TITLE_PAGE)
    assert doc.title == "Rivers of the Indus"
    assert doc.front_matter.author == "Amina Rahman"
    assert doc.front_matter.date == "2024-03-01"
    assert sections(doc) == [("Front Matter",), ("Introduction",)]


def test_which_rule_read_the_first_heading_is_a_note(tmp_path):
    """Without a YAML title, a first `#` heading is ambiguous: the document says which
    reading it got, and how to get the other; it is a note, not a warning."""
    section = parse(tmp_path, NO_TITLE_PAGE)
    assert section.notes == (
        'the first heading "Introduction" was read as a section: nothing that looks like a '
        "title page follows it (prose comes before the next heading); give a YAML title to "
        "name the brief",
    )
    assert not section.warnings
    titled = parse(tmp_path, TITLE_PAGE)
    assert titled.notes == (
        'the first heading "Rivers of the Indus" was read as the title (a title page '
        "follows); give a YAML title to make it a section",
    )
    only = parse(tmp_path, "# Memo\n\nOne long paragraph of prose about rivers.\n")
    assert only.title == "Memo" and '(it is the only "#" heading)' in only.notes[0]
    yaml_without_title = "---\nauthor: Amina Rahman\n---\n\n" + NO_TITLE_PAGE
    assert "read as a section" in parse(tmp_path, yaml_without_title).notes[0]


@pytest.mark.parametrize(
    "text",
    [
        PANDOC,  # a YAML title: every heading is a section, nothing to say
        OBSIDIAN.replace("author:", "title: Rivers of the Indus\nauthor:"),
        "Some prose first.\n\n# Introduction\n\nText.\n",  # no heading on the first line
        "## Background\n\nText under a second-level heading.\n",
    ],
)
def test_no_note_when_the_first_heading_is_not_in_doubt(tmp_path, text):
    assert parse(tmp_path, text).notes == ()


def test_bad_or_huge_yaml_is_a_warning_not_a_failure(tmp_path):
    doc = parse(
        tmp_path, "---\ntitle: [unclosed\n---\n\n# Brief\n\nBy A. Writer\n\n## One\n\nText.\n"
    )
    assert any("not valid YAML" in w for w in doc.warnings)
    assert doc.title == "Brief" and doc.front_matter.author == "A. Writer"
    big = "---\n" + "x: " + "y" * 70_000 + "\n---\n\n# Brief\n\n## One\n\nText.\n"
    doc = parse(tmp_path, big)
    assert any("not read" in w for w in doc.warnings)
    unsafe = "---\ntitle: !!python/object/apply:os.system ['true']\n---\n\n## One\n\nText.\n"
    assert any("not valid YAML" in w for w in parse(tmp_path, unsafe).warnings)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "expected"),
    [("Who wrote the brief?", "Amina Rahman"), ("Who edited the brief?", "Sara Khan")],
)
def test_who_wrote_a_markdown_brief_is_answered_from_its_front_matter(tmp_path, question, expected):
    from rag.config import Settings
    from rag.engine import build, open_engine

    path = tmp_path / "indus.md"
    path.write_text(PANDOC, encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", corpus=[path])
    build(settings, [path])
    top = open_engine(settings, auto_build=False).search(question, k=3).hits[0]
    assert top.passage.kind == "front_matter"
    assert expected in top.passage.text


PANDOC_WRITTEN = """---
author: Amina Rahman
editor: Sara Khan
title: Rivers -- and Dams
---

By

Amina Rahman

Research Fellow

Centre for River Policy, Institute of Water Studies

March 1, 2024

# Introduction

The basin \\-\\- as the maps show --- feeds millions; run `rag --help` or see
<https://example.org/a--b>.[^1]

------------------------------------------------------------------------

[^1]: \\"Rivers -- Facts,\\" *River Review*, May 2, 2021,
    <https://example.org/rivers--facts>
"""


def test_markdown_as_pandoc_writes_it(tmp_path):
    """Dashes as pandoc means them (escaped, code and URLs aside), the printed title page
    under a YAML block read as the title page, and a thematic break dropped."""
    doc = parse(tmp_path, PANDOC_WRITTEN)
    fm = doc.front_matter
    assert doc.title == fm.title == "Rivers – and Dams"
    assert (fm.author, fm.author_role, fm.editor) == (
        "Amina Rahman",
        "Research Fellow",
        "Sara Khan",
    )
    assert (fm.centre, fm.institute) == ("Centre for River Policy", "Institute of Water Studies")
    # The title page's own lines, and one for the editor only the YAML names.
    assert fm.lines == (
        "Rivers – and Dams",
        "Edited by Sara Khan",
        "By",
        "Amina Rahman",
        "Research Fellow",
        "Centre for River Policy, Institute of Water Studies",
        "March 1, 2024",
    )
    intro = next(p for p in doc.paragraphs if p.section.title == "Introduction")
    assert doc.body[intro.span.start : intro.span.end] == (
        "The basin -- as the maps show — feeds millions; run `rag --help` or see "
        "<https://example.org/a--b>.¹"
    )
    assert sections(doc) == [("Front Matter",), ("Introduction",)]
    note = doc.footnote(1)
    assert note.citation == '"Rivers – Facts," River Review, May 2, 2021'
    assert note.url == "https://example.org/rivers--facts"


def test_a_yaml_author_with_a_role_is_split_as_a_byline_would_be(tmp_path):
    one = parse(
        tmp_path, '---\ntitle: "Dams"\nauthor: "Jane Doe, Senior Fellow"\n---\n\n# A\n\nText.\n'
    )
    assert (one.front_matter.author, one.front_matter.author_role) == ("Jane Doe", "Senior Fellow")
    assert "By Jane Doe" in one.front_matter.lines and "Senior Fellow" in one.front_matter.lines
    # A list of names, a degree, or a role given on its own is left as written.
    many = parse(
        tmp_path,
        '---\ntitle: "Dams"\nauthor: "Jane Doe, John Roe and Ann Poe"\n---\n\n# A\n\nText.\n',
    )
    assert many.front_matter.author == "Jane Doe, John Roe and Ann Poe"
    assert many.front_matter.author_role is None
    phd = parse(tmp_path, '---\ntitle: "Dams"\nauthor: "Jane Doe, PhD"\n---\n\n# A\n\nText.\n')
    assert phd.front_matter.author == "Jane Doe, PhD"
    given = parse(
        tmp_path,
        '---\ntitle: "Dams"\nauthor: "Jane Doe, Fellow"\nauthor_role: Director\n---\n'
        "\n# A\n\nText.\n",
    )
    assert (given.front_matter.author, given.front_matter.author_role) == (
        "Jane Doe, Fellow",
        "Director",
    )
