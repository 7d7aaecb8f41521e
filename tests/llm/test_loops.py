"""`looping`: when a reply's last tokens repeat one short pattern."""

from __future__ import annotations

from longagent.llm.base import LOOP_PERIOD, looping


def test_a_repeated_short_pattern_is_a_loop() -> None:
    assert looping([7] * 8, 8)
    assert looping([1, 2, 3] * 6, 16)
    assert looping([9, 9] + list(range(LOOP_PERIOD)) * 4, LOOP_PERIOD * 4)


def test_text_that_does_not_repeat_or_repeats_too_little_is_no_loop() -> None:
    assert not looping(list(range(40)), 16)
    assert not looping([1, 2, 3] * 6 + [4], 16)  # the pattern just broke
    assert not looping([1, 2, 3] * 5, 16)  # shorter than the span
    assert not looping(list(range(LOOP_PERIOD + 1)) * 4, 24)  # a pattern longer than a loop's
    assert not looping([5] * 10, 0)
