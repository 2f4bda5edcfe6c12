"""Per-stage peak memory: the high-water mark resets per stage and the store keeps the max."""

from __future__ import annotations

import numpy as np
import pytest

from faithscope.runs import memory
from faithscope.runs.store import ResultStore


def test_reset_peak_forgets_an_earlier_allocation_but_process_peak_keeps_it():
    big = np.ones(300 * 2 ** 20 // 8)  # 300 MiB, touched
    before = memory.peak_rss_mib()
    del big
    if not memory.reset_peak():
        pytest.skip("this OS does not let a process reset its high-water mark")
    after = memory.peak_rss_mib()
    assert after < before - 200
    assert memory.process_peak_rss_mib() >= before - 5  # the kernel updates its mark lazily (page-counter batches)


def test_store_keeps_the_highest_peak_per_stage(tmp_path):
    store = ResultStore.in_dir(tmp_path)
    store.add_stage_peak("masking", 900.0)
    store.add_stage_peak("masking", 700.0)
    store.add_stage_peak("attribution", 1200.5)
    assert store.stage_peaks() == {"masking": 900.0, "attribution": 1200.5}
