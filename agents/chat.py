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
archival and thoughts). A new process with the same home and name carries on.

Document text is data, not instructions: `read_document` results enter the context only
as a fenced tool result, its findings are written to thought memory by code, and once a
turn has seen document text the model is offered `send_message` alone for the rest of
the turn. In later turns, while that result is still in the main context, the memory
writes and read_document are not offered. Constrained decoding makes these guarantees,
not requests: a function missing from the schema cannot be written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from longagent.agents.chat_functions import (
    DOC_OPEN,
    FUNCTIONS,
    MESSAGE_CHARS,
    WRITES,
    DocumentReading,
    FunctionError,
    Functions,
    call_json,
    call_union,
)
from longagent.agents.chat_types import (
    NO_REPLY,
    FunctionCall,
    Reply,
    TurnState,
    agent_dir,
    prompt,
)
from longagent.config import Settings
from longagent.errors import ContextOverflowError, LongAgentError, ModelResponseError
from longagent.llm import ChatModel, GenerationRequest, Message
from longagent.llm.constrained import generate_structured
from longagent.llm.usage import MeteredModel
from longagent.memory import (
    CoreMemory,
    Embedder,
    MemoryStore,
    PagingController,
    ThoughtMemory,
)
from longagent.memory.filters import quote

__all__ = ["NO_REPLY", "ChatAgent", "FunctionCall", "Reply", "agent_dir"]


class ChatAgent:
    """`ChatAgent(model, home=..., name=...)`; `send(text) -> Reply`.

    `home` defaults to the settings' home (~/.longagent); the agent keeps its state in
    `home/agents/<name>/`, so several agents share one home. `budget` is the main
    context's token budget (default: the model's window less room for the reply and the
    pre-fetch). With `auto_search` (default) the agent itself searches recall and archival
    for each user message and shows the model what it finds outside its context, a safety
    net for small models that rarely call the search functions; the calls are reported in
    the reply with `auto=True`.
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
    ) -> None:
        if max_steps < 1 or max_retries < 0:
            raise ValueError("max_steps must be at least 1 and max_retries at least 0")
        self.name = name
        self.dir = agent_dir(home, name, settings)
        self.home = self.dir.parent.parent
        self.model = MeteredModel(model)
        self.max_steps = max_steps
        self.max_retries = max_retries
        self.auto_search = auto_search
        if message_mode not in ("free", "json"):
            raise ValueError(f"message_mode must be 'free' or 'json', got {message_mode!r}")
        self.free_message = message_mode == "free"
        self.reply_tokens = reply_tokens
        self.recall_tokens = recall_tokens if auto_search else 0
        self.store = MemoryStore(self.dir / "memory", embedder)
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
        self._reader = reader
        self.excerpt_tokens = excerpt_tokens
        self.functions = Functions(
            agent=name,
            core=self.core,
            store=self.store,
            pager=self.pager,
            thoughts=self.thoughts,
            read=self._read_document,
        )

    # -- the loop --------------------------------------------------------------------------

    def send(self, text: str, *, documents: tuple[str | Path, ...] = ()) -> Reply:
        """One user message, one turn of the loop. `documents` are read for the message
        first (as if the model had called read_document on each)."""
        if not text.strip():
            raise LongAgentError("The message is empty.")
        before = self.model.usage.model_copy()
        self.core.reload()  # another process may have edited the blocks
        turn = TurnState()
        self._append(turn, "user", text)
        recall_note = self._prefetch(text, turn)
        for path in documents:
            self._attach(turn, str(path), text)
        while turn.steps < self.max_steps:
            allowed = self._allowed(turn)
            if allowed == ("send_message",) and self.free_message:
                call: dict[str, Any] | None = {"function": "send_message", "parameters": {}}
            else:
                call = self._decide(turn, allowed, recall_note)
            if call is not None and call["function"] == "send_message" and self.free_message:
                call = self._compose(turn, recall_note)
            turn.steps += 1
            if call is None:
                continue  # invalid output: retried in the next step, errors counted
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
        if self.document_in_context():
            # Document text from an earlier turn is still in the main context: nothing
            # it says may change memory or open files until it has been evicted.
            return tuple(f for f in FUNCTIONS if f not in WRITES and f != "read_document")
        return FUNCTIONS

    def document_in_context(self) -> bool:
        return any(m.role == "tool" and DOC_OPEN in m.content for m in self.pager.messages)

    def _messages(self, turn: TurnState, recall_note: Message | None) -> list[Message]:
        messages = self.pager.context()
        if recall_note is not None:
            messages.insert(self._user_index(messages), recall_note)
        return messages + turn.notes

    def _decide(
        self, turn: TurnState, allowed: tuple[str, ...], recall_note: Message | None
    ) -> dict[str, Any] | None:
        """Ask the model for one call among `allowed`; None when its output was unusable
        (the error goes back to the model as a transient note)."""
        request = GenerationRequest(
            messages=self._messages(turn, recall_note), max_new_tokens=self.reply_tokens
        )
        output_type = call_union(allowed, self.free_message)
        try:
            (result,) = generate_structured(self.model, [request], output_type)
        except ContextOverflowError as exc:
            self.pager.evict()
            return self._invalid(turn, str(exc))
        if isinstance(result, ModelResponseError):
            return self._invalid(turn, str(result))
        turn.notes = []
        return result.root.model_dump()

    def _compose(self, turn: TurnState, recall_note: Message | None) -> dict[str, Any] | None:
        """The message of a send_message call, written as a plain assistant turn (without
        the notes about invalid JSON: they are about calls, not about the reply)."""
        messages = self._messages(TurnState(), recall_note)
        if messages[-1].role != "user":
            messages.append(Message(role="system", content=prompt("chat_compose").strip()))
        request = GenerationRequest(messages=messages, max_new_tokens=self.reply_tokens)
        try:
            (generation,) = self.model.generate([request])
        except ContextOverflowError as exc:
            self.pager.evict()
            return self._invalid(turn, str(exc))
        message = _clip_message(generation.text.strip())
        if not message:
            return self._invalid(turn, "the message was empty")
        turn.notes = []
        return {"function": "send_message", "parameters": {"message": message}}

    @staticmethod
    def _invalid(turn: TurnState, error: str) -> None:
        turn.errors += 1
        turn.invalid += 1
        turn.notes = [
            Message(
                role="system",
                content=f"Error: that was not a valid function call ({error}). "
                "Write one JSON function call.",
            )
        ]

    @staticmethod
    def _user_index(messages: list[Message]) -> int:
        for i in range(len(messages) - 1, 0, -1):
            if messages[i].role == "user":
                return i
        return len(messages)

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
        self._append(turn, "tool", self._result_text(record))
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

    @staticmethod
    def _result_text(record: FunctionCall) -> str:
        if record.error is not None:
            return f"{record.name} failed: {record.error}"
        return f"{record.name} returned: {record.result}"

    def _append(self, turn: TurnState, role: str, content: str) -> None:
        report = self.pager.append(role, content)
        turn.warning = turn.warning or report.warning
        turn.evicted.extend(report.evicted)

    # -- what the agent does by itself -----------------------------------------------------

    def _prefetch(self, text: str, turn: TurnState) -> Message | None:
        """Search recall (outside the context) and archival for the user's message."""
        if not self.auto_search:
            return None
        lines: list[str] = []
        if self.pager.state.evicted:
            in_context = [m.id for m in self.pager.messages]
            found = self.functions.search_messages(text, exclude=in_context, limit=4)
            snippets = self.functions.focus(text, [m.content for m in found], limit=160)
            found_lines = [
                f"- past message, {m.role}: {snippet}"
                for m, snippet in zip(found, snippets, strict=True)
            ]
            lines += found_lines
            turn.calls.append(
                FunctionCall(
                    name="conversation_search",
                    arguments={"query": text},
                    result="\n".join(found_lines),
                    auto=True,
                )
            )
        if self.store.archival.count():
            hits = self.store.archival.search(text, limit=2)
            hit_lines = [f"- archival: {' '.join(h.record.text.split())}" for h in hits]
            lines += hit_lines
            turn.calls.append(
                FunctionCall(
                    name="archival_memory_search",
                    arguments={"query": text},
                    result="\n".join(hit_lines),
                    auto=True,
                )
            )
        while lines:
            note = prompt("chat_recall").format(results="\n".join(lines)).strip()
            if self.model.count_tokens(note) <= self.recall_tokens or len(lines) == 1:
                note = _truncate(note, self.recall_tokens, self.model.count_tokens)
                return Message(role="system", content=note)
            lines.pop()
        return None

    def _attach(self, turn: TurnState, path: str, question: str) -> None:
        record = self._run(turn, "read_document", {"path": path, "question": question}, auto=True)
        self._append(turn, "tool", self._result_text(record))

    def _read_document(self, path: str, question: str) -> DocumentReading:
        file = Path(path).expanduser()
        if not file.is_file():
            raise FunctionError(f"there is no file at {path}")
        if self._reader is None:
            from longagent.agents.leader import LongAgent

            self._reader = LongAgent(self.model)
        from longagent.chunking import load

        document = load(file)
        answer = self._reader.ask(document, question)
        short = self.model.count_tokens(document.text) <= self.excerpt_tokens
        return DocumentReading(
            path=path,
            question=question,
            answer=answer.text,
            found=answer.found,
            quotes=[c.quote for c in answer.citations],
            document_id=answer.document_id,
            chunk_ids=tuple(c.chunk_id for c in answer.citations),
            excerpt=document.text if short else "",
        )

    # -- memory management for people (the CLI's commands) ---------------------------------

    def forget(self, entry_id: str) -> str | None:
        """Delete an archival entry or a thought by id (or a unique id prefix of at least 6
        characters); returns the tier it was in, or None when there is no such entry."""
        entry_id = entry_id.strip()
        if not re.fullmatch(r"[0-9a-f]{6,32}", entry_id):
            return None
        for tier in (self.store.archival, self.store.thoughts):
            ids = [r.id for r in tier.scan(limit=2, where=f"id LIKE {quote(entry_id + '%')}")]
            if len(ids) == 1 and tier.delete(ids):
                return tier.name
        return None

    def export(self, path: str | Path) -> Path:
        """Write the whole agent (core, summary, recall, archival, thoughts) to one file."""
        from longagent.agents.chat_transfer import export_agent

        return export_agent(self, path)

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

        return import_agent(path, model, home=home, name=name, **kwargs)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ChatAgent:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChatAgent(name={self.name!r}, dir={str(self.dir)!r})"


def _clip_message(text: str, limit: int = MESSAGE_CHARS) -> str:
    """A free-text message cut to `limit` characters, at a sentence end where there is one
    (a small model can ramble past any length)."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    return cut[: end + 1].strip() if end > limit // 3 else cut[: limit - 1].rstrip() + "…"


def _truncate(text: str, tokens: int, count: Any) -> str:
    """Cut `text` to about `tokens` tokens (by characters, proportionally)."""
    used = count(text)
    if used <= tokens:
        return text
    return text[: max(1, len(text) * tokens // used - 1)] + "…"
