"""ChatAgent: a MemGPT-style chat agent whose memory persists.

Each `send(text)` is one turn of the MemGPT loop over the paging controller. The model
sees the system prompt, core memory, the recursive summary and the recent messages, and
acts by writing one function call per step (schema-constrained JSON, so even the bundled
135M model writes calls that parse). A call that asks for a heartbeat, or one that
failed, gives the model another step; `send_message` ends the turn; `max_steps` bounds
the chain, and the last step of a turn that has not yet answered offers only
`send_message`, so every turn replies.

Messages are written as free text by default (`message_mode="free"`): the model decides
in JSON to call send_message, then writes the message as a plain assistant turn. Small
models answer far better in their own chat format than inside a JSON string (measured
with the bundled model: "Ines." free, "Sender_name_1234567890" in JSON, same context).
`message_mode="json"` puts the message inside the call, one model call per step.

Everything lives under `home/agents/<name>/`: core.json (core memory), paging.json (the
summary and which messages are in context) and memory/ (the LanceDB store with recall,
archival and thoughts). A new process with the same home and name carries on. Two
processes may use one agent at once: a turn holds the agent's file lock and starts by
reloading core memory and the paging state from disk, so turns take turns and neither
process overwrites what the other saved.

Document text is data, not instructions: `read_document` results enter the context only
as a fenced tool result, its findings are written to thought memory by code, and once a
turn has seen document text the model is offered `send_message` alone for the rest of
the turn. In later turns, while that result is still in the main context, the memory
writes and read_document are not offered. Constrained decoding makes these guarantees,
not requests: a function missing from the schema cannot be written. Which files may be
read at all is an allow-list (agents/chat_documents.py).

What the model is shown and asked at each step (the automatic memory search, the
decision, the free-text message) is in agents/chat_context.py; the functions themselves
in agents/chat_functions.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout
from pydantic import ValidationError

from longagent.agents.chat_context import compose, decide, failed_calls, recall, with_note
from longagent.agents.chat_documents import Documents
from longagent.agents.chat_functions import (
    DOC_OPEN,
    FUNCTIONS,
    WRITES,
    FunctionError,
    Functions,
    call_json,
)
from longagent.agents.chat_types import (
    NO_REPLY,
    ArgumentError,
    FunctionCall,
    Reply,
    TurnState,
    agent_dir,
    check_message,
    check_model,
    check_name,
    check_options,
    check_path,
    check_paths,
    prompt,
)
from longagent.config import Settings
from longagent.errors import ContextOverflowError, LongAgentError
from longagent.llm import ChatModel, Message
from longagent.llm.usage import MeteredModel
from longagent.memory import (
    CoreMemory,
    Embedder,
    MemoryStore,
    PagingController,
    ThoughtMemory,
)

__all__ = ["NO_REPLY", "ChatAgent", "FunctionCall", "Reply", "agent_dir"]


class ChatAgent:
    """`ChatAgent(model, home=..., name=...)`; `send(text) -> Reply`.

    `home` defaults to the settings' home (~/.longagent); the agent keeps its state in
    `home/agents/<name>/`, so several agents share one home. `budget` is the main
    context's token budget (default: the model's window less room for the reply and the
    pre-fetch). With `auto_search` (default) the agent itself searches recall and archival
    for each user message and shows the model what it finds outside its context, a safety
    net for small models that rarely call the search functions; the calls are reported in
    the reply with `auto=True`. read_document may open files under `document_roots`
    (default: `home/documents`) and files attached to a message. `lock_timeout` is how
    long a turn waits for another process's turn on the same agent.
    """

    def __init__(
        self,
        model: ChatModel,
        home: str | Path | None = None,
        name: str = "default",
        *,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        budget: int | None = None,
        max_steps: int = 3,
        max_retries: int = 1,
        auto_search: bool = True,
        message_mode: Literal["free", "json"] = "free",
        reply_tokens: int = 120,
        recall_tokens: int = 160,
        excerpt_tokens: int = 160,
        reader: Any | None = None,
        document_roots: Iterable[str | Path] | None = None,
        lock_timeout: float = 600.0,
    ) -> None:
        check_model(model)
        check_options(
            {
                "max_steps": max_steps,
                "reply_tokens": reply_tokens,
                "excerpt_tokens": excerpt_tokens,
            },
            {"max_retries": max_retries, "recall_tokens": recall_tokens},
            budget=budget,
            auto_search=auto_search,
            settings=settings,
            message_mode=message_mode,
            lock_timeout=lock_timeout,
        )
        if document_roots is not None:
            document_roots = check_paths("document_roots", document_roots)
        self.name = name
        self.dir = agent_dir(home, name, settings)
        self.home = self.dir.parent.parent
        self.model = MeteredModel(model)
        self.max_steps = max_steps
        self.max_retries = max_retries
        self.auto_search = auto_search
        self.free_message = message_mode == "free"
        self.reply_tokens = reply_tokens
        self.recall_tokens = recall_tokens if auto_search else 0
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.dir / "agent.lock", timeout=lock_timeout)
        self.store = MemoryStore(self.dir / "memory", embedder)
        with self.locked():
            self.core = CoreMemory(
                self.dir / "core.json",
                defaults={"persona": prompt("chat_persona").strip(), "human": ""},
            )
            self.pager = PagingController(
                self.store,
                self.model,
                agent=name,
                budget=budget,
                system_prompt=prompt("chat_system").format(name=name).strip(),
                core=self.core,
                state_path=self.dir / "paging.json",
                reply_tokens=reply_tokens + self.recall_tokens,
            )
        self.thoughts = ThoughtMemory(self.store.thoughts)
        roots = [self.home / "documents"] if document_roots is None else document_roots
        self.documents = Documents(
            self.model,
            roots,
            home=self.home,
            embedder=self.store.embedder,
            reader=reader,
            excerpt_tokens=excerpt_tokens,
        )
        self.functions = Functions(
            agent=name,
            core=self.core,
            store=self.store,
            pager=self.pager,
            thoughts=self.thoughts,
            read=self.documents.read,
        )

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold this agent's cross-process lock (re-entrant), with what other processes
        saved loaded: every turn and every change of memory runs inside it."""
        try:
            self._lock.acquire()
        except Timeout:
            raise LongAgentError(
                f"agent {self.name!r} is busy in another process (waited "
                f"{self._lock.timeout:.0f} s for {self._lock.lock_file})"
            ) from None
        try:
            if self._lock.lock_counter == 1 and hasattr(self, "pager"):
                self.core.reload()
                self.pager.reload()
            yield
        finally:
            self._lock.release()

    # -- the loop --------------------------------------------------------------------------

    def send(self, text: str, *, documents: Iterable[str | Path] = ()) -> Reply:
        """One user message, one turn of the loop. `documents` are read for the message
        first (as if the model had called read_document on each)."""
        check_message(text)
        files = check_paths("documents", documents)
        with self.locked():
            return self._turn(text, files)

    def _turn(self, text: str, documents: Iterable[str | Path]) -> Reply:
        before = self.model.usage.model_copy()
        self._append(turn := TurnState(), "user", text)
        # A message over its share of the budget is in context as an excerpt (recall keeps
        # it whole); the searches and the reminder of the question use that excerpt too.
        turn.question = text = self.pager.text_of(self.pager.messages[-1])
        recall_note = None
        if self.auto_search:
            found = recall(text, self.functions, self.recall_tokens, self.model.count_tokens)
            turn.calls += found.calls
            recall_note = found.note
        for path in documents:
            arguments = {"path": self.documents.attach(path), "question": text}
            record = self._run(turn, "read_document", arguments, auto=True)
            self._append(turn, "tool", record.outcome)
        while turn.steps < self.max_steps:
            call = self._step(turn, recall_note)
            turn.steps += 1
            if isinstance(call, str):
                turn.refuse(call)
                continue  # retried in the next step, errors counted
            turn.notes = []
            if not self._act(turn, call):
                break
        return Reply(
            text="\n".join(turn.sent) or NO_REPLY,
            function_calls=turn.calls,
            steps=turn.steps,
            invalid_outputs=turn.invalid,
            memory_pressure=round(self.pager.pressure, 4),
            warning=turn.warning,
            evicted=turn.evicted,
            usage=self.model.usage - before,
        )

    def _allowed(self, turn: TurnState) -> tuple[str, ...]:
        last_step = turn.steps == self.max_steps - 1
        if turn.tainted or turn.errors > self.max_retries or (last_step and not turn.sent):
            return ("send_message",)
        allowed = FUNCTIONS
        if not self.store.archival.count():
            # Nothing to find: measured on the bundled model, an offered empty search is
            # a step spent on queries like 'car_id' and a worse reply after it.
            allowed = tuple(f for f in allowed if f != "archival_memory_search")
        if self.document_in_context():
            # Document text from an earlier turn is still in the main context: nothing
            # it says may change memory or open files until it has been evicted.
            allowed = tuple(f for f in allowed if f not in WRITES and f != "read_document")
        return allowed

    def document_in_context(self) -> bool:
        return any(m.role == "tool" and DOC_OPEN in m.content for m in self.pager.messages)

    def _step(self, turn: TurnState, recall_note: Message | None) -> dict[str, Any] | str:
        """The model's next call, or what was wrong with its output. In free mode a
        decision to send a message is followed by the message, written as plain text
        without the notes about invalid JSON and without the failed calls still in
        context (a failed read_document of this turn aside: the user asked for it and
        hears why not): they changed nothing, and in `bench chat` both replies the bundled
        model wrote after refused memory writes ignored the recalled fact; without them,
        one used it."""
        allowed = self._allowed(turn)
        try:
            if allowed != ("send_message",) or not self.free_message:
                messages = with_note(self.pager.context(), recall_note) + turn.notes
                call = decide(self.model, messages, allowed, self.free_message, self.reply_tokens)
                speak = not isinstance(call, str) and call["function"] == "send_message"
                if not (speak and self.free_message):
                    return call
            # Failed calls stay out of what the message is written from, except this turn's
            # failed read_document: the user asked for it, so they hear why not.
            skip = {
                i
                for i, name in failed_calls(self.pager.messages).items()
                if name != "read_document" or i not in turn.appended
            }
            messages = with_note(self.pager.context(skip=skip), recall_note)
            return compose(self.model, messages, turn.question, self.reply_tokens)
        except ContextOverflowError as exc:
            self.pager.evict()
            return str(exc)

    def _act(self, turn: TurnState, call: dict[str, Any]) -> bool:
        """Run the call, record it in the transcript; False when the turn is over."""
        name, arguments = call["function"], call["parameters"]
        heartbeat = bool(call.get("request_heartbeat"))
        record = self._run(turn, name, arguments, heartbeat=heartbeat)
        if name == "send_message" and record.error is None:
            message = arguments["message"].strip()
            turn.sent.append(message)
            self._append(turn, "assistant", message)
            return False  # a message ends the turn
        self._append(turn, "assistant", call_json(name, arguments))
        self._append(turn, "tool", record.outcome)
        if record.error is not None:
            turn.errors += 1
            return True  # a failed call always gets another step (bounded by the limits)
        return heartbeat or not turn.sent

    def _run(
        self,
        turn: TurnState,
        name: str,
        arguments: dict[str, Any],
        *,
        heartbeat: bool = False,
        auto: bool = False,
    ) -> FunctionCall:
        record = FunctionCall(name=name, arguments=arguments, heartbeat=heartbeat, auto=auto)
        repeated = any(
            not c.auto and c.name == name and c.arguments == arguments for c in turn.calls
        )
        try:
            if repeated and name != "send_message":
                # The model is going round in circles: let it only reply from here on.
                turn.errors = max(turn.errors, self.max_retries)
                raise FunctionError("this call was already made in this turn; do something else")
            record.result = self.functions.run(name, arguments)
        except (LongAgentError, ValidationError, OSError, ValueError) as exc:
            record.error = str(exc)
        except Exception as exc:  # a failing function must not end the conversation
            record.error = f"{type(exc).__name__}: {exc}"
        if name == "read_document":
            turn.tainted = True  # even an error may quote the document
        turn.calls.append(record)
        return record

    def _append(self, turn: TurnState, role: str, content: str) -> None:
        report = self.pager.append(role, content)
        turn.warning = turn.warning or report.warning
        turn.evicted.extend(report.evicted)
        turn.appended.append(self.pager.messages[-1].id)  # the newest always stays in context

    # -- memory management for people (the CLI's commands) ---------------------------------

    def forget(self, entry_id: str) -> str | None:
        """Delete an archival entry or a thought by id (or a unique id prefix of at least 6
        characters); returns the tier it was in, or None when there is no such entry."""
        if not isinstance(entry_id, str):
            raise ArgumentError(f"the id must be a str, got {type(entry_id).__name__}")
        with self.locked():
            return self.store.forget(entry_id.strip())

    def export(self, path: str | Path) -> Path:
        """Write the whole agent (core, summary, recall, archival, thoughts) to one file."""
        from longagent.agents.chat_transfer import export_agent

        file = check_path("path", path)
        with self.locked():
            return export_agent(self, file)

    @classmethod
    def import_file(
        cls,
        path: str | Path,
        model: ChatModel,
        home: str | Path | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> ChatAgent:
        """A new agent (named as exported unless `name` is given) from an export file."""
        from longagent.agents.chat_transfer import import_agent

        check_model(model)
        if name is not None:
            check_name(name)
        return import_agent(check_path("path", path), model, home=home, name=name, **kwargs)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ChatAgent:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChatAgent(name={self.name!r}, dir={str(self.dir)!r})"
