"""Label matching and reply parsing for server backends (no server needed)."""

from faithscope.models.server_labels import match_first_tokens, parse_label_reply

NLI = {"entailment": " entailment", "contradiction": " contradiction", "neutral": " neutral"}


def test_first_token_matching_rules():
    top = {" e": -3.0, " entail": -1.0, "entailment": -0.5, "Ġneutral": -2.0, " n": -0.1}
    matched, missing = match_first_tokens(top, NLI)
    assert matched == {"entailment": " entail", "neutral": "Ġneutral"} and missing == ("contradiction",)
    # two labels whose best token is the same cannot be told apart: both missing
    matched, missing = match_first_tokens({" p": -0.1}, {"psych": " psychologist", "phys": " physician"})
    assert matched == {} and missing == ("psych", "phys")


def test_exact_first_tokens_from_the_tokenizer_replace_the_prefix_rule():
    top = {" contra": -7.5, " entail": -5.0, " Neutral": -8.0}
    matched, missing = match_first_tokens(top, NLI, {"contradiction": " contradiction", "entailment": " entail"})
    assert matched == {"entailment": " entail"} and missing == ("contradiction", "neutral")
    matched, _ = match_first_tokens({"entail": -1.0}, NLI, {"entailment": " entail"})
    assert matched == {"entailment": "entail"}  # a tokenizer that drops the leading space


def test_reply_parsing():
    assert parse_label_reply(' "Entailment."', NLI) == "entailment"
    assert parse_label_reply("**neutral**", NLI) == "neutral"
    assert parse_label_reply("neutrality", NLI) is None
    assert parse_label_reply("The answer is neutral", NLI) is None
    assert parse_label_reply("", NLI) is None
