from rag.text import from_superscript, markers_in, match_key, to_superscript, unescape_markdown


def test_superscript_round_trip_multi_digit():
    assert to_superscript(18) == "¹⁸"
    assert from_superscript("¹⁸") == 18


def test_markers_in_order_without_repeats():
    assert markers_in("a.¹ b.¹⁰ c.² d.¹") == [1, 10, 2]


def test_unescape_markdown_dollar():
    assert (
        unescape_markdown(r"\$1.5 billion and \*not emphasis\*")
        == "$1.5 billion and *not emphasis*"
    )


def test_match_key_drops_markers_escapes_and_invisibles():
    assert match_key("the  Cold War.²\u200b") == match_key("The cold war.")
    assert match_key(r"\$19 million") == "$19 million"
    # Never NFKC: a superscript must not turn into a digit that would then match.
    assert match_key("ally.¹") == "ally."
