"""Fixtures of the fine-tuning tests: a tiny training file (NLI pairs that are not in the
shipped demo set, which is the evaluation data here) and a fresh, private copy of the
embedded model for every test that trains (training injects LoRA layers in place)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

TRAIN = [
    ("A man is riding a red bicycle down a hill.", "A person is on a bike.", "entailment"),
    ("A girl is reading a book in the library.", "The girl is swimming in the sea.", "contradiction"),
    ("Two dogs are running across a snowy field.", "The dogs are chasing a rabbit.", "neutral"),
    ("An old woman is knitting a scarf by the fire.", "A woman is making something.", "entailment"),
    ("A chef is chopping onions in a busy kitchen.", "The chef is asleep in bed.", "contradiction"),
    ("A boy is flying a kite at the beach.", "The boy is on vacation with his family.", "neutral"),
    ("A band is playing music on a stage.", "Musicians are performing.", "entailment"),
    ("A cat is sleeping on a warm windowsill.", "The cat is hunting a mouse outside.", "contradiction"),
]


def write_train_file(path: Path, rows=TRAIN) -> Path:
    path.write_text("".join(json.dumps({"premise": p, "hypothesis": h, "label": lab}) + "\n" for p, h, lab in rows), encoding="utf-8")
    return path


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_train_file(tmp_path / "train.jsonl")


@pytest.fixture
def fresh_model(loaded_model):
    """A deep copy of the session's embedded model that a test may modify."""
    return copy.deepcopy(loaded_model)
