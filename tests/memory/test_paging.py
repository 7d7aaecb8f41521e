"""The paging controller with the scripted model (tokens are whitespace words) on the
real store: pressure warning, eviction into a recursive summary, recall, restart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from longagent.llm import GenerationRequest
from longagent.llm.fake import ScriptedModel
from longagent.memory import CoreMemory, MemoryStore, PagingController, RecallMessage
from longagent.memory.summaries import (
    cut_echo,
    cut_markup,
    cut_repetition,
    degenerate,
    extractive_summary,
)

PROMPTS = Path(__file__).parents[2] / "longagent" / "memory" / "prompts"

SYSTEM = "You are a careful test agent."  # 6 words


def words(i: int, n: int = 10) -> str:
    """A message of exactly `n` words, unique by `i`."""
    return " ".join([f"topic{i}"] + [f"w{i}x{k}" for k in range(n - 1)])


def recap(request: GenerationRequest) -> str:
    """A grounded summary: the topics of the old summary and the messages it folds."""
    topics = dict.fromkeys(re.findall(r"topic\d+", request.messages[0].content))
    return "Covered " + " ".join(topics) + "."


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
    model = ScriptedModel(recap)
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
    assert p.summary == "Covered " + " ".join(f"topic{i}" for i in range(8)) + "."

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
    model = ScriptedModel(recap)
    p = pager(store, model)
    for i in range(20):
        p.append("user", words(i))
    assert model.calls == 2
    first = "Covered " + " ".join(f"topic{i}" for i in range(8)) + "."
    assert first in model.requests[1].messages[0].content  # the old summary is folded in
    assert p.summary.startswith(first[:-1]) and "topic8" in p.summary
    assert p.state.evicted == sum(1 for _ in range(20)) - len(p.messages)


def test_state_survives_restart(store: MemoryStore, tmp_path: Path) -> None:
    core = CoreMemory(tmp_path / "core.json", defaults={"human": "Name: Maria."})
    model = ScriptedModel(recap)
    p = pager(store, model, core=core)
    for i in range(9):
        p.append("user", words(i, 12))
    assert p.state.evicted > 0
    again = pager(store, ScriptedModel([]), core=core)
    assert again.summary == p.summary and again.summary.startswith("Covered topic0")
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
        return f"Summary number {n}: " + recap(request)

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
            assert f"Summary number {k}:" in prompt  # each call folds the previous one
    assert p.summary.startswith(f"Summary number {model.calls}:")


FACTS = [
    "My sister is called Ines and she lives in Lisbon.",
    "I work as a pilot for Azores Airlines.",
    "My lucky number is 73.",
]


def test_a_looping_summary_is_cut_where_it_repeats(store: MemoryStore) -> None:
    line = "The user covered topic0 and topic1 and topic2."
    p = pager(store, ScriptedModel(lambda r: f"{line}\n{line}\n{line} {line}"))
    for i in range(11):
        p.append("user", words(i))
    assert p.summary == line


@pytest.mark.parametrize(
    "output",
    [
        "<remarks>\n\n<remarks>\n\n<remarks>\n\n<remarks>\n\n<remarks>",  # measured
        "The most recent message left memory now, oldest first:\nuser: Hello.",  # measured
        "I'm ready to assist you with your request. What can I assist you with today?",
        "   ",
    ],
)
def test_a_degenerate_summary_gives_way_to_the_evicted_facts(
    store: MemoryStore, output: str
) -> None:
    model = ScriptedModel(lambda r: output)
    p = pager(store, model, budget=160, summary_share=0.3)
    p.state.summary = "user: I grew up in Porto."  # an earlier (extractive) summary
    chat = ["That sounds lovely.", "Tell me more if you like.", "How nice!"]
    for fact, reply in zip(FACTS, chat, strict=True):
        p.append("user", f"Yesterday it rained all day long. {fact}")
        p.append("assistant", reply)
    while model.calls < 2:  # the facts are folded, then folded again with small talk
        p.append("user", "We walked along the canal and counted the herons on the far bank. " * 3)
    for fact in ["I grew up in Porto.", *FACTS]:
        assert f"user: {fact}" in p.summary.splitlines()
    assert "<remarks>" not in p.summary and "assist" not in p.summary
    assert model.count_tokens(p.summary) <= p.summary_tokens


def test_the_extract_keeps_the_most_specific_sentences_within_its_budget() -> None:
    messages = [
        ("user", "The weather was grey and windy all day. My car is a red Fiat."),
        ("assistant", "That sounds like a long and tiring day for you."),
        ("user", "We walked along the canal for hours. My lucky number is 73."),
    ]
    count = lambda text: len(text.split())  # noqa: E731
    summary = extractive_summary("user: I grew up in Porto.", messages, 20, count)
    assert summary.splitlines() == [
        "user: I grew up in Porto.",
        "user: My car is a red Fiat.",
        "user: My lucky number is 73.",
    ]


def test_the_guard_cuts_markup_prompt_echoes_and_loops() -> None:
    assert cut_repetition("a b c d e f g a b c d e f g") == "a b c d e f g"
    assert cut_repetition("Ines lives in Porto.\n\n  ines lives in porto") == "Ines lives in Porto."
    source = "user: Hi! My name is Ines and I live in Porto, where I teach chemistry."
    assert not degenerate("Ines, a chemistry teacher, lives in Porto.", source)
    assert degenerate("<remarks>", source)
    assert degenerate("I am ready to assist you with your request today.", source)
    assert degenerate("This chat is about a new summary.", source + " This is chat 1.")
    echoed = "Ines teaches chemistry.\n</summary>\n\nMessages leaving memory now:\n<messages>"
    assert cut_markup(echoed) == "Ines teaches chemistry."
    assert cut_markup("<summary>Ines teaches chemistry.</summary>") == "Ines teaches chemistry."
    instructions = (PROMPTS / "summarize.txt").read_text()
    echo = "Ines teaches chemistry.\nThe most recent message left memory now, oldest first:"
    assert cut_echo(echo, instructions, source) == "Ines teaches chemistry."


def test_rejects_bad_input(store: MemoryStore) -> None:
    p = pager(store, ScriptedModel([]))
    with pytest.raises(ValueError, match="role must be one of"):
        p.append("narrator", "once upon a time")
    with pytest.raises(ValueError, match="target < warn_at"):
        pager(store, ScriptedModel([]), warn_at=0.4)
    # The default budget leaves room for the reply in the model's window.
    assert PagingController(store, ScriptedModel([], context_window=2048), agent="b").budget == 1792


def test_a_message_over_its_share_enters_the_context_as_an_excerpt(store: MemoryStore) -> None:
    model = ScriptedModel(recap, context_window=4096)
    p = pager(store, model, budget=200)  # one message may take a quarter: 50 tokens
    text = words(1, 5000) + " so what do you think?"
    p.append("user", text)
    (shown,) = [m.content for m in p.context() if m.role == "user"]
    assert len(shown.split()) <= p.message_tokens and shown.endswith("do you think?")
    assert p.tokens() <= p.budget and model.calls == 0  # nothing to evict
    assert store.recall.get([p.messages[0].id])[0].content == text  # recall keeps it whole
    again = pager(store, model, budget=200)
    assert again.context() == p.context()  # a restart rebuilds the same excerpt
