import pytest

from faithscope.data import load_dataset
from faithscope.data.stats import random_baseline_expectation
from faithscope.types import Example


def ex(n_claim: int, n_evidence: int, rationale: set[int]) -> Example:
    return Example(id="x", fields={"claim": ("w",) * n_claim, "evidence": ("w",) * n_evidence},
                   label="supports", rationale=frozenset(rationale))


def test_hand_computed():
    # k/n: 2/10 and 1/4; micro = (4/10 + 1/4) / 3 = 0.21667; macro = (0.2 + 0.25) / 2; k=0 ignored
    micro, macro = random_baseline_expectation([ex(2, 8, {3, 4}), ex(1, 3, {2}), ex(1, 4, set())])
    assert micro == pytest.approx(100 * 0.65 / 3)
    assert macro == pytest.approx(22.5)
    micro, macro = random_baseline_expectation([ex(2, 8, {3, 4})], fields=("evidence",))
    assert (micro, macro) == pytest.approx((25.0, 25.0))
    assert random_baseline_expectation([]) == (0.0, 0.0)


def test_real_data_matches_spec(real_data):
    """SPEC: e-SNLI dev 1-500 27.1 (annotator 1: 31.1, union: 47.0), FEVER first 300 33.8
    (evidence only 35.6), MedicalBios 113 bios 22.3."""
    esnli = load_dataset("esnli", real_data).examples
    assert len(esnli) == 500
    assert round(random_baseline_expectation(esnli)[0], 1) == 27.1
    assert round(random_baseline_expectation(load_dataset("esnli", real_data, min_annotators=1).examples)[0], 1) == 47.0
    first_annotator = [Example(id=e.id, fields=e.fields, label=e.label, rationale=e.annotator_rationales[0]) for e in esnli]
    assert round(random_baseline_expectation(first_annotator)[0], 1) == 31.1
    fever = load_dataset("fever", real_data, n=300, first=True).examples
    assert round(random_baseline_expectation(fever)[0], 1) == 33.8
    assert round(random_baseline_expectation(fever, fields=("evidence",))[0], 1) == 35.6
    bios = load_dataset("medical_bios", real_data).examples
    assert len(bios) == 113
    assert round(random_baseline_expectation(bios)[0], 1) == 22.3


def test_real_esnli_files(real_data):
    counts = {}
    for e in load_dataset("esnli", real_data).examples:
        counts[e.label] = counts.get(e.label, 0) + 1
    assert counts == {"contradiction": 172, "entailment": 169, "neutral": 159}
    plain = load_dataset("esnli-plain", real_data).examples
    assert len(plain) == 9824
    assert sum(1 for e in plain if e.label == "entailment") == 3368
    assert plain[0].text("premise") == "This church choir sings to the masses as they sing joyous songs from the book at a church."
