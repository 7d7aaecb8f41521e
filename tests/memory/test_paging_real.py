"""The paging controller with the real bundled model writing the recursive summary."""

from __future__ import annotations

import pytest

from longagent.memory import MemoryStore, PagingController
from longagent.memory.summaries import cut_markup, cut_repetition, degenerate

pytestmark = pytest.mark.slow

TURNS = [
    ("user", "Hi! My name is Ines and I live in Porto, where I teach chemistry."),
    ("assistant", "Nice to meet you, Ines. Teaching chemistry in Porto sounds lovely."),
    ("user", "My sister Marta is visiting next week; she is a pilot."),
    ("assistant", "How exciting. I hope you and Marta have a great week together."),
    ("user", "We plan to hike in the mountains and cook a big dinner."),
    ("assistant", "That sounds like a wonderful plan for the visit."),
    ("user", "Also, my cat is called Pixel and she hates the vacuum cleaner."),
    ("assistant", "Poor Pixel! Many cats dislike loud vacuum cleaners."),
]


def test_real_model_folds_evicted_turns_into_a_summary(store: MemoryStore, bundled_model) -> None:
    pager = PagingController(
        store, bundled_model, agent="ines", budget=150, system_prompt="You are a helpful assistant."
    )
    reports = [pager.append(role, text) for role, text in TURNS]
    assert any(r.warning for r in reports)  # pressure was reported before the flush
    evicted = [i for r in reports for i in r.evicted]
    assert evicted and pager.summary.strip()  # the model wrote a summary of what left
    # Not junk: no markup, no loop, about the conversation, and it keeps a fact.
    summary = pager.summary
    assert cut_repetition(cut_markup(summary)) == summary.strip()
    assert not degenerate(summary, " ".join(text for _, text in TURNS))
    assert any(fact in summary for fact in ("Ines", "Porto", "chemistry", "Marta", "pilot"))
    assert pager.tokens() <= 150
    assert pager.summary in pager.context()[0].content
    hits = pager.search("sister Marta pilot")  # evicted turns stay searchable in recall
    assert any("Marta" in h.record.content for h in hits)
