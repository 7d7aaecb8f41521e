"""`longagent bench chat`: deep memory retrieval (DMR), as in the MemGPT paper.

A synthetic multi-session conversation: in the early sessions the user mentions facts
about themselves ("My sister is called Ines."), between small talk; later sessions are
small talk only, so by the end the facts lie far outside a small window. Then each
question asks about one early fact, and a reply is right when it contains the fact's
value. Systems, all on the same model and the same token budget:

- window: the model alone, with the most recent messages that fit the budget;
- paging: ChatAgent (paging controller, recursive summary, recall and archival), with
  its automatic recall search (the default);
- paging-noauto: ChatAgent relying on the model alone to call conversation_search.

The history is loaded into the agent through the paging controller (so old messages are
evicted and summarised by the model as they would be in a live chat) once; every
question then runs on a fresh copy of that agent, so questions do not see each other.
Prints a table and writes bench-results/chat.json.
"""

from __future__ import annotations

import json
import platform
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

FACTS: list[tuple[str, str, list[str]]] = [
    ("My sister is called {v}.", "What is my sister called?", ["Ines", "Marta", "Greta", "Noor"]),
    ("My dog is named {v}.", "What is my dog's name?", ["Biscuit", "Pepper", "Rolo", "Juniper"]),
    ("I work as a {v}.", "What is my job?", ["dentist", "carpenter", "pilot", "librarian"]),
    ("I grew up in {v}.", "Where did I grow up?", ["Porto", "Tallinn", "Cork", "Ghent"]),
    ("My favourite colour is {v}.", "What is my favourite colour?", ["teal", "amber", "crimson"]),
    ("I play the {v}.", "Which instrument do I play?", ["cello", "banjo", "trumpet", "harp"]),
    ("My car is a {v}.", "What car do I drive?", ["Volvo", "Skoda", "Subaru", "Fiat"]),
    ("My lucky number is {v}.", "What is my lucky number?", ["17", "42", "73", "88"]),
]

# Small talk is built from parts, so a long conversation never repeats a line.
_WHEN = ["This morning", "Yesterday", "Last weekend", "On Tuesday", "Earlier today", "Last night"]
_DID = [
    "I walked along the canal and counted the herons on the far bank",
    "I tried a new recipe for lentil soup with cumin and lemon",
    "we watched an old film about sailors crossing the Atlantic",
    "the train into town was late because of works on the line",
    "I tidied the garden and planted tulip bulbs for the spring",
    "I started a thick novel about a lighthouse keeper on a rocky island",
    "I bought apples, fresh bread and far too much cheese at the market",
    "my neighbour repainted his fence and the whole street smelled of paint",
    "I visited the museum's new room of old maps of the coast",
    "I fixed the squeaky hinge on the kitchen cupboard at last",
    "I cycled to the lake and back under a grey, windy sky",
    "I sorted a box of old photographs from my grandparents' attic",
]
_FELT = [
    "and it was quite relaxing",
    "which took much longer than I expected",
    "and I would happily do it again",
    "though my feet were sore afterwards",
    "and it made me think of my childhood",
    "and the weather stayed kind the whole time",
]
ACKS = [
    "That sounds lovely. What did you enjoy most about it?",
    "Thanks for telling me. It sounds like a good way to spend the time.",
    "How nice! Small things like that can make a whole day better.",
    "I see. Did anything surprising happen along the way?",
    "That must have been pleasant. Tell me more if you like.",
]


def small_talk(rng: random.Random, count: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < count:
        line = f"{rng.choice(_WHEN)} {rng.choice(_DID)}, {rng.choice(_FELT)}."
        if line not in lines:
            lines.append(line)
    return lines


BASELINE_SYSTEM = "You are a helpful assistant. Answer the user's question from the conversation."


@dataclass
class Question:
    question: str
    answer: str
    statement: str
    session: int


@dataclass
class Conversation:
    messages: list[tuple[str, str]] = field(default_factory=list)  # (role, content)
    questions: list[Question] = field(default_factory=list)


def make_conversation(sessions: int, questions: int, filler: int, seed: int) -> Conversation:
    """Facts in the early sessions (all but the last, when there are several), small
    talk everywhere; one question per fact."""
    rng = random.Random(seed)
    if questions > len(FACTS):
        raise typer.BadParameter(f"at most {len(FACTS)} questions (one per kind of fact)")
    kinds = rng.sample(FACTS, questions)
    early = max(1, sessions - 1)
    if filler < -(-questions // early) or filler > 200:
        raise typer.BadParameter(
            f"filler must be between {-(-questions // early)} (facts per early session) and 200"
        )
    conversation = Conversation()
    per_session: list[list[Question]] = [[] for _ in range(sessions)]
    for i, (statement, question, values) in enumerate(kinds):
        value = rng.choice(values)
        q = Question(question, value, statement.format(v=value), i % early)
        per_session[q.session].append(q)
        conversation.questions.append(q)
    for s in range(sessions):
        conversation.messages += [("user", f"Hello again, it is me. This is chat number {s + 1}.")]
        conversation.messages += [("assistant", "Welcome back! How are you?")]
        talk = small_talk(rng, filler)
        facts = per_session[s]
        for t, line in enumerate(talk):
            if t < len(facts):
                fact = facts[t].statement
                fact = fact if fact.startswith("I ") else fact[0].lower() + fact[1:]
                line = f"{line} By the way, {fact}"
            conversation.messages += [("user", line), ("assistant", rng.choice(ACKS))]
    return conversation


def _states(content: str, question: Question) -> bool:
    return question.statement.lower() in content.lower()


def baseline_messages(
    conversation: Conversation, question: str, budget: int, count: Any
) -> tuple[list[Any], int]:
    """The bare model's prompt: its system line and the newest messages that fit."""
    from longagent.llm import Message

    used = count(BASELINE_SYSTEM) + count(question) + 8
    kept: list[tuple[str, str]] = []
    for role, content in reversed(conversation.messages):
        cost = count(content) + 4
        if used + cost > budget:
            break
        kept.insert(0, (role, content))
        used += cost
    messages = [Message(role="system", content=BASELINE_SYSTEM)]
    messages += [Message(role=r, content=c) for r, c in kept]  # type: ignore[arg-type]
    messages.append(Message(role="user", content=question))
    return messages, len(kept)


def main(
    model: str = typer.Option(
        None, "--model", "-m", help="Model spec (default: the bundled model)."
    ),
    sessions: int = typer.Option(3, help="Sessions in the synthetic conversation."),
    questions: int = typer.Option(5, help="Questions, one per early fact (at most 8)."),
    filler: int = typer.Option(12, help="Small-talk exchanges per session."),
    budget: int = typer.Option(768, help="Token budget of every system's context."),
    systems: str = typer.Option("window,paging,paging-noauto", help="Comma-separated."),
    seed: int = typer.Option(0, help="Seed of the synthetic conversation."),
    out_dir: Path = typer.Option("bench-results", help="Where chat.json goes."),
) -> None:
    from longagent.apps import checks

    chosen = checks.names("--systems", systems, ("window", "paging", "paging-noauto"))
    checks.at_least("--sessions", sessions, 1)
    checks.at_least("--questions", questions, 1)
    checks.at_most("--questions", questions, len(FACTS))
    early = max(1, sessions - 1)
    checks.at_least("--filler", filler, -(-questions // early))  # room for the facts
    checks.at_most("--filler", filler, 200)
    checks.at_least("--budget", budget, 128)
    checks.model_spec(model)
    checks.writable_dir(out_dir, "--out-dir")  # last: it creates the folder
    from rich.console import Console
    from rich.table import Table

    from longagent.agents.chat import ChatAgent
    from longagent.llm import GenerationRequest, load_model
    from longagent.llm.usage import MeteredModel
    from longagent.memory import MiniLMEmbedder

    console = Console()
    metered = MeteredModel(load_model(model))
    embedder = MiniLMEmbedder()
    conversation = make_conversation(sessions, questions, filler, seed)
    count = metered.count_tokens
    history_tokens = sum(count(c) + 4 for _, c in conversation.messages)
    console.print(
        f"{len(conversation.messages)} messages in {sessions} sessions, {history_tokens} tokens; "
        f"budget {budget}; {len(conversation.questions)} questions"
    )
    records: list[dict[str, Any]] = []
    work = Path(tempfile.mkdtemp(prefix="longagent-bench-chat-"))
    try:
        load_seconds = 0.0
        if any(s.startswith("paging") for s in chosen):
            start = time.perf_counter()
            with (
                console.status("loading the history into the paging agent"),
                ChatAgent(metered, work / "base", "user", budget=budget, embedder=embedder) as base,
            ):
                for role, content in conversation.messages:
                    base.pager.append(role, content)
                summary = base.pager.summary
                evicted = base.pager.state.evicted
            load_seconds = time.perf_counter() - start
            console.print(
                f"history loaded in {load_seconds:.0f} s: {evicted} messages evicted; "
                f"summary: {summary[:200]!r}"
            )
        for n, q in enumerate(conversation.questions):
            for system in chosen:
                before = metered.usage.model_copy()
                start = time.perf_counter()
                record: dict[str, Any] = {"system": system, "question": q.question}
                if system == "window":
                    messages, kept = baseline_messages(conversation, q.question, budget, count)
                    request = GenerationRequest(messages=messages, max_new_tokens=48)
                    text = metered.generate([request])[0].text.strip()
                    in_window = any(_states(m.content, q) for m in messages)
                    record.update(messages_in_window=kept, fact_in_context=in_window)
                else:
                    home = work / f"{system}-{n}"
                    shutil.copytree(work / "base", home)
                    auto = system == "paging"
                    with ChatAgent(
                        metered, home, "user", budget=budget, embedder=embedder, auto_search=auto
                    ) as agent:
                        in_context = any(_states(m.content, q) for m in agent.pager.messages)
                        reply = agent.send(q.question)
                    text = reply.text
                    record.update(
                        fact_in_context=in_context,
                        calls=[c.model_dump() for c in reply.function_calls],
                        steps=reply.steps,
                    )
                used = metered.usage - before
                correct = q.answer.lower() in text.lower()
                record.update(
                    expected=q.answer,
                    session=q.session + 1,
                    reply=text,
                    correct=correct,
                    seconds=round(time.perf_counter() - start, 2),
                    model_calls=used.model_calls,
                    prompt_tokens=used.prompt_tokens,
                )
                records.append(record)
                mark = "[green]right[/]" if correct else "[red]wrong[/]"
                console.print(f"{system:>14} {mark} {q.question!r} -> {text[:80]!r}", markup=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    table = Table(title=f"Deep memory retrieval on {metered.name} (budget {budget} tokens)")
    for column in (
        "system",
        "accuracy",
        "fact in context",
        "s / question",
        "model calls / question",
    ):
        table.add_column(column, justify="right" if column != "system" else "left")
    summary_rows = {}
    for system in chosen:
        rows = [r for r in records if r["system"] == system]
        right = sum(r["correct"] for r in rows)
        summary_rows[system] = {
            "accuracy": right / len(rows),
            "correct": right,
            "questions": len(rows),
            "fact_in_context": sum(r["fact_in_context"] for r in rows),
            "seconds_per_question": sum(r["seconds"] for r in rows) / len(rows),
            "model_calls_per_question": sum(r["model_calls"] for r in rows) / len(rows),
        }
        s = summary_rows[system]
        table.add_row(
            system,
            f"{right}/{len(rows)} ({100 * s['accuracy']:.0f}%)",
            f"{s['fact_in_context']}/{len(rows)}",
            f"{s['seconds_per_question']:.1f}",
            f"{s['model_calls_per_question']:.1f}",
        )
    console.print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "chat.json"
    path.write_text(
        json.dumps(
            {
                "model": metered.name,
                "machine": platform.platform(),
                "config": {
                    "sessions": sessions,
                    "questions": questions,
                    "filler": filler,
                    "budget": budget,
                    "seed": seed,
                    "messages": len(conversation.messages),
                    "history_tokens": history_tokens,
                    "history_load_seconds": round(load_seconds, 1),
                },
                "summary": summary_rows,
                "records": records,
            },
            indent=2,
        )
    )
    console.print(f"wrote {path}")
