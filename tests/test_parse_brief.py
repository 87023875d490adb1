"""Facts of the bundled brief: the parser must recover its real structure."""

from rag.text import strip_markers

SUBSECTIONS = [
    "Regional and Global Front",
    "Dialogue and Cooperation",
    "Security Cooperation",
    "Economic and Trade Cooperation",
    "Non-Security Cooperation",
    "Sustaining the Partnership",
]


def test_section_tree(brief):
    paths = [s.path for s in brief.sections]
    assert paths == [
        ("Front Matter",),
        ("Introduction",),
        ("Current Pace of Relationship",),
        *[("Current Pace of Relationship", t) for t in SUBSECTIONS],
        ("Way Forward",),
    ]
    for section in brief.sections[1:]:  # each heading opens its section's span
        assert brief.body[section.span.start :].startswith(section.title)
        assert ":" not in section.title


def test_front_matter_fields(brief):
    fm = brief.front_matter
    assert fm.title == "Pakistan-U.S. Relations – Building a Futuristic Partnership"
    assert fm.author == "Mahrukh Khan"
    assert fm.author_role == "Research Fellow"
    assert fm.centre == "Centre for Strategic Perspectives (CSP)"
    assert fm.institute == "ISSI"
    assert fm.editor == "Dr Neelum Nigar"
    assert fm.date == "2024-09-16"
    assert fm.disclaimer.startswith("Views expressed in the brief are those of the author")
    assert brief.title == fm.title


def test_eighteen_footnotes_with_urls(brief):
    numbers = [f.number for f in brief.footnotes]
    assert numbers == list(range(1, 19))
    without_url = [f.number for f in brief.footnotes if f.url is None]
    assert without_url == [15]
    assert brief.footnote(10).url.startswith("https://www.centcom.mil/")
    assert brief.footnote(4).publisher == "Voice of America"
    assert brief.footnote(4).date == "2022-03-06"
    assert brief.footnote(2).title == "War and Peace in Afghanistan: The Pakistani Role"
    assert brief.footnote(9).publisher == "ISPR"
    assert "*" not in brief.footnote(4).citation and "<" not in brief.footnote(4).citation


def test_every_marker_resolves_and_every_definition_is_cited(brief):
    from rag.text import markers_in

    assert sorted(markers_in(brief.body)) == list(range(1, 19))
    assert brief.warnings == ()


def test_footnote_blocks_are_lifted_out_of_the_body(brief):
    assert "nsarchive2" not in brief.body
    assert "<https://" not in brief.body


def test_three_cut_sentences_come_out_whole(brief):
    body = strip_markers(brief.body)
    assert "Second, Pakistan helped the U.S. reverse the Soviet invasion of Afghanistan" in body
    assert (
        "However, the fallout of this competition remains especially important for Islamabad"
        in body
    )
    assert "provides a model for other countries to follow." in body


def test_heading_stranded_before_footnotes_keeps_its_text(brief):
    security = next(p for p in brief.paragraphs if p.section.title == "Security Cooperation")
    text = brief.body[security.span.start : security.span.end]
    assert text.startswith("On the counter-terrorism front")
    assert security.section.path == ("Current Pace of Relationship", "Security Cooperation")


def test_escapes_removed_and_markers_kept_as_superscripts(brief):
    assert "$1.5 billion" in brief.body and "\\$" not in brief.body
    assert "$19 million in funds.¹⁸" in brief.body
    assert "'free world.'¹ Second" in brief.body
    assert "ally.1" not in brief.body


def test_paragraph_spans_slice_the_body(brief):
    for p in brief.paragraphs:
        text = brief.body[p.span.start : p.span.end]
        assert text == text.strip() and text
