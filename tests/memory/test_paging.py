"""The paging controller with the scripted model (tokens are whitespace words) on the
real store: pressure warning, eviction into a recursive summary, recall, restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from longagent.llm.fake import ScriptedModel
from longagent.memory import CoreMemory, MemoryStore, PagingController, RecallMessage

SYSTEM = "You are a careful test agent."  # 6 words


def words(i: int, n: int = 10) -> str:
    """A message of exactly `n` words, unique by `i`."""
    return " ".join([f"topic{i}"] + [f"w{i}x{k}" for k in range(n - 1)])


def pager(store: MemoryStore, model: ScriptedModel, **kwargs) -> PagingController:
    kwargs.setdefault("budget", 100)
    return PagingController(
        store,
        model,
        agent="alice",
        system_prompt=SYSTEM,
        per_message_tokens=0,
        **kwargs,
    )


def test_warning_at_70_percent_and_eviction_at_100(store: MemoryStore) -> None:
    model = ScriptedModel(["Alice talked about topics zero to seven."])
    p = pager(store, model)
    reports = [p.append("user" if i % 2 == 0 else "assistant", words(i)) for i in range(9)]
    assert [m.role for m in p.messages[:2]] == ["user", "assistant"]
    # 6 system words + 10 per message: 66, 76, ...; the warning starts at 70.
    assert [r.tokens for r in reports[5:7]] == [66, 76]
    assert not reports[5].warning and reports[6].warning
    assert "Memory pressure" in p.context()[0].content
    assert not any(r.evicted for r in reports) and model.calls == 0

    full = p.append("user", words(9))  # 106 tokens: over budget, evict
    assert model.calls == 1
    assert len(full.evicted) == 8
    assert full.pressure <= 0.5 and not full.warning
    assert [m.content for m in p.messages] == [words(8), words(9)]
    assert p.summary == "Alice talked about topics zero to seven."

    prompt = model.requests[0].messages[0].content
    for i in range(8):
        assert words(i) in prompt  # every evicted message reaches the summariser
    assert words(9) not in prompt
    assert model.requests[0].max_new_tokens == p.summary_tokens

    context = p.context()
    assert context[0].role == "system"
    assert SYSTEM in context[0].content and p.summary in context[0].content
    assert [(m.role, m.content) for m in context[1:]] == [("user", words(8)), ("user", words(9))]

    # Evicted messages are still in recall, searchable.
    assert store.recall.count(agent="alice") == 10
    assert p.search("topic3", limit=1)[0].record.content == words(3)


def test_summary_is_recursive(store: MemoryStore) -> None:
    model = ScriptedModel(["first summary of topics.", "second summary folding everything."])
    p = pager(store, model)
    for i in range(20):
        p.append("user", words(i))
    assert model.calls == 2
    second_prompt = model.requests[1].messages[0].content
    assert "first summary of topics." in second_prompt  # the old summary is folded in
    assert p.summary == "second summary folding everything."
    assert p.state.evicted == sum(1 for _ in range(20)) - len(p.messages)


def test_state_survives_restart(store: MemoryStore, tmp_path: Path) -> None:
    core = CoreMemory(tmp_path / "core.json", defaults={"human": "Name: Maria."})
    model = ScriptedModel(["what happened before."])
    p = pager(store, model, core=core)
    for i in range(9):
        p.append("user", words(i, 12))
    assert p.state.evicted > 0
    again = pager(store, ScriptedModel([]), core=core)
    assert again.summary == "what happened before."
    assert [m.id for m in again.messages] == [m.id for m in p.messages]
    assert again.tokens() == p.tokens()
    assert "Name: Maria." in again.context()[0].content


def test_message_written_before_a_crash_is_recovered(store: MemoryStore) -> None:
    p = pager(store, ScriptedModel([]))
    p.append("user", "hello there")
    # A process that died after the recall write but before saving the paging state.
    orphan = RecallMessage(agent="alice", role="assistant", content="hi, how can I help?")
    store.recall.add([orphan])
    again = pager(store, ScriptedModel([]))
    assert [m.content for m in again.messages] == ["hello there", "hi, how can I help?"]


def test_folds_in_several_calls_when_the_model_window_is_small(store: MemoryStore) -> None:
    n = 0

    def summarise(request):
        nonlocal n
        n += 1
        return f"summary number {n}."

    # Room per call: 300 - 100 (summary) - 8 = 192 words; the template is ~90 words,
    # so each call can take at most two 50-word messages.
    model = ScriptedModel(summarise, context_window=300)
    p = pager(store, model, budget=1000)
    for i in range(20):
        p.append("user", words(i, 50))
    assert model.calls >= 3
    for k, request in enumerate(model.requests):
        prompt = request.messages[0].content
        assert model.count_tokens(prompt) <= 192
        if k:
            assert f"summary number {k}." in prompt  # each call folds the previous one
    assert p.summary == f"summary number {model.calls}."


def test_empty_summary_keeps_the_old_one(store: MemoryStore) -> None:
    model = ScriptedModel(["kept summary.", "   "])
    p = pager(store, model)
    for i in range(20):
        p.append("user", words(i))
    assert model.calls == 2
    assert p.summary == "kept summary."


def test_rejects_bad_input(store: MemoryStore) -> None:
    p = pager(store, ScriptedModel([]))
    with pytest.raises(ValueError, match="role must be one of"):
        p.append("narrator", "once upon a time")
    with pytest.raises(ValueError, match="target < warn_at"):
        pager(store, ScriptedModel([]), warn_at=0.4)
    # The default budget leaves room for the reply in the model's window.
    assert PagingController(store, ScriptedModel([], context_window=2048), agent="b").budget == 1792
