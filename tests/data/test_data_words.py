from faithscope.data.words import normalize_word, parse_marked, split_words, word_spans


def test_split_words_is_whitespace_split():
    assert split_words(" A  man,\tin a\nhat. ") == ("A", "man,", "in", "a", "hat.")
    assert split_words("") == ()


def test_word_spans_match_split():
    text = "Dr.  Max\u00a0Poe\n runs."
    spans = word_spans(text)
    assert spans == [(0, 3), (5, 8), (9, 12), (14, 19)]
    assert tuple(text[s:e] for s, e in spans) == tuple(text.split())


def test_normalize_word():
    assert normalize_word("Packages.") == "packages"
    assert normalize_word('"Hello,') == "hello"
    assert normalize_word("(Jude)") == "jude"
    assert normalize_word("to-go") == "to-go"
    assert normalize_word("don't") == "don't"
    assert normalize_word("’Tis…") == "tis"
    assert normalize_word(".") == "."
    assert normalize_word("ÉCOLE") == "école"


def test_parse_marked_handles_leading_and_double_spaces():
    words, marks = parse_marked(" The *sisters* are  *hugging* goodbye *lunch.*")
    assert words == ("The", "sisters", "are", "hugging", "goodbye", "lunch.")
    assert marks == frozenset({1, 3, 5})
