"""Runtime tuning: the young-generation GC threshold and the start-up heap freeze."""

from __future__ import annotations

import gc

import pytest

from alcor import runtime


@pytest.fixture
def saved_gc():
    """Restore the interpreter's GC settings after the test."""
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)
    gc.unfreeze()


def test_tune_gc_sets_only_the_young_generation(saved_gc):
    """The older generations keep their own thresholds."""
    _, older, oldest = gc.get_threshold()
    runtime.tune_gc(12_345)
    assert gc.get_threshold() == (12_345, older, oldest)


def test_tune_gc_zero_keeps_python_s_threshold(saved_gc):
    """0 leaves the interpreter's threshold alone."""
    before = gc.get_threshold()
    runtime.tune_gc(0)
    assert gc.get_threshold() == before


def test_freeze_heap_moves_live_objects_out_of_collection(saved_gc):
    """What is alive at the freeze is in the permanent generation."""
    gc.unfreeze()
    runtime.freeze_heap()
    assert gc.get_freeze_count() > 0
