"""`longagent bench chat`'s synthetic conversations (no model needed)."""

from __future__ import annotations

import pytest
import typer

from longagent.apps.bench.chat import baseline_messages, make_conversation


def words(text: str) -> int:
    return len(text.split())


def test_facts_sit_in_early_sessions_and_questions_ask_about_them() -> None:
    conversation = make_conversation(sessions=3, questions=5, filler=5, seed=0)
    assert len(conversation.questions) == 5
    assert len({q.question for q in conversation.questions}) == 5
    assert {q.session for q in conversation.questions} <= {0, 1}  # never the last session
    text = [c for _, c in conversation.messages]
    last_session = text[text.index(next(t for t in text if "chat number 3" in t)) :]
    for q in conversation.questions:
        stated = [t for t in text if q.statement.lower() in t.lower()]
        assert len(stated) == 1 and q.answer in stated[0]
        assert not any(q.answer in t for t in last_session)
    assert make_conversation(3, 5, 5, 0).messages == conversation.messages  # seeded
    assert make_conversation(3, 5, 5, 1).messages != conversation.messages


def test_the_window_baseline_keeps_only_the_newest_messages_that_fit() -> None:
    conversation = make_conversation(sessions=3, questions=4, filler=4, seed=0)
    messages, kept = baseline_messages(conversation, "What is my job?", 120, words)
    assert messages[0].role == "system" and messages[-1].content == "What is my job?"
    assert 0 < kept < len(conversation.messages)
    assert [m.content for m in messages[1:-1]] == [c for _, c in conversation.messages[-kept:]]
    assert sum(words(m.content) + 4 for m in messages) <= 120 + 8


def test_impossible_settings_are_refused() -> None:
    with pytest.raises(typer.BadParameter):
        make_conversation(sessions=2, questions=5, filler=3, seed=0)  # 5 facts, 3 slots
    with pytest.raises(typer.BadParameter):
        make_conversation(sessions=3, questions=9, filler=5, seed=0)
