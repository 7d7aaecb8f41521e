"""The paging controller (MemGPT): keeps the main context inside a token budget.

The main context is one system message (system prompt, core-memory blocks, the recursive
summary) followed by the most recent messages. Every message goes to recall storage the
moment it arrives, so moving it out of context later loses nothing. At `warn_at` of the
budget (70%) the controller reports memory pressure; at `flush_at` (100%) it evicts the
oldest messages until the context is about `target` (50%) full, and the model folds them
into a new summary of the old summary plus the evicted messages (a recursive summary).
Which messages are in context and the summary are persisted, so a restart resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, Field, ValidationError

from longagent.llm.base import ChatModel, GenerationRequest, Message, Role
from longagent.memory._atomic import read_json, write_json_atomic
from longagent.memory.core import CoreMemory
from longagent.memory.errors import DamagedFileError, StoreError
from longagent.memory.records import Hit, RecallMessage
from longagent.memory.store import MemoryStore
from longagent.memory.summaries import guard
from longagent.prompts import load_prompt

_ROLES = set(get_args(Role))


class PagingState(BaseModel):
    """What survives a restart: the summary and which recall messages are in context."""

    agent: str
    summary: str = ""
    in_context: list[str] = Field(default_factory=list)  # recall ids, oldest first
    evicted: int = 0  # messages moved out of context so far
    # created_at of the newest message appended; recall rows newer than this that are
    # not in context were written by a process that died before saving this state.
    watermark: datetime | None = None


@dataclass(frozen=True)
class PagingReport:
    """The state of the main context after a step."""

    tokens: int
    budget: int
    warning: bool  # pressure reached warn_at: time to save what matters
    evicted: tuple[str, ...] = ()  # recall ids moved out of context by this step

    @property
    def pressure(self) -> float:
        return self.tokens / self.budget


class PagingController:
    """Main-context manager for one agent. See the module docstring for the policy.

    `count_tokens` defaults to the model's tokenizer and `budget` to its context window
    less room for the reply; `per_message_tokens` covers the chat template's overhead.
    """

    def __init__(
        self,
        store: MemoryStore,
        model: ChatModel,
        *,
        agent: str,
        budget: int | None = None,
        count_tokens: Callable[[str], int] | None = None,
        system_prompt: str = "",
        core: CoreMemory | None = None,
        state_path: str | Path | None = None,
        warn_at: float = 0.7,
        flush_at: float = 1.0,
        target: float = 0.5,
        summary_share: float = 0.1,
        message_share: float = 0.25,
        per_message_tokens: int = 4,
        reply_tokens: int = 256,
    ) -> None:
        if not 0 < target < warn_at <= flush_at:
            raise ValueError("need 0 < target < warn_at <= flush_at")
        self.store = store
        self.model = model
        self.agent = agent
        self.budget = budget if budget is not None else model.context_window - reply_tokens
        if self.budget <= 0:
            raise ValueError(f"token budget must be positive, got {self.budget}")
        self.count_tokens = count_tokens or model.count_tokens
        self.system_prompt = system_prompt
        self.core = core
        self.warn_at, self.flush_at, self.target = warn_at, flush_at, target
        # The summary may take this many tokens; eviction leaves room for it.
        self.summary_tokens = max(16, int(self.budget * summary_share))
        # One message may take this many tokens of the context; a longer one enters it as
        # an excerpt (its start and end), while recall keeps it whole.
        self.message_tokens = max(16, int(self.budget * message_share))
        self.per_message_tokens = per_message_tokens
        if state_path is None:
            if store.home is None:
                raise StoreError("a store on object storage needs an explicit state_path")
            state_path = store.home / "paging" / f"{agent}.json"
        self.state_path = Path(state_path)
        self._token_cache: dict[str, int] = {}
        self._text_cache: dict[str, str] = {}
        self.state = self._load_state()
        self._messages: list[RecallMessage] = store.recall.get(self.state.in_context)
        self._recover_unsaved()

    # -- state ---------------------------------------------------------------------------

    def _load_state(self) -> PagingState:
        data = read_json(
            self.state_path,
            advice="Move it aside: the agent then starts with an empty context and summary, "
            "and every message stays in recall memory.",
        )
        if data is None:
            return PagingState(agent=self.agent)
        try:
            state = PagingState.model_validate(data)
        except ValidationError as exc:
            raise DamagedFileError(
                f"{self.state_path} is not a paging state ({exc.error_count()} errors, first: "
                f"{exc.errors()[0]['msg']}). Move it aside: the agent then starts with an "
                "empty context and summary, and every message stays in recall memory."
            ) from None
        if state.agent != self.agent:
            raise StoreError(f"{self.state_path} holds the paging state of agent {state.agent!r}")
        return state

    def reload(self) -> None:
        """Pick up the state another process saved. Call it under a lock that the other
        process also holds for its turns (ChatAgent's), or it may change again at once."""
        self.state = self._load_state()
        self._messages = self.store.recall.get(self.state.in_context)
        self._recover_unsaved()

    def _save_state(self) -> None:
        self.state.in_context = [m.id for m in self._messages]
        write_json_atomic(self.state_path, self.state.model_dump(mode="json"), backup=True)

    def _recover_unsaved(self) -> None:
        if self.state.watermark is None:
            return
        known = set(self.state.in_context)
        newer = self.store.recall.scan(limit=10_000, agent=self.agent, since=self.state.watermark)
        lost = [m for m in newer if m.id not in known and m.created_at > self.state.watermark]
        if lost:
            self._messages.extend(lost)
            self.state.watermark = lost[-1].created_at
            self._save_state()

    # -- the main context ----------------------------------------------------------------

    @property
    def messages(self) -> list[RecallMessage]:
        """The messages in context, oldest first."""
        return list(self._messages)

    @property
    def summary(self) -> str:
        return self.state.summary

    def _system_text(self, summary: str) -> str:
        parts = [self.system_prompt.strip()] if self.system_prompt.strip() else []
        if self.core is not None:
            parts.append("### Core memory\n" + self.core.render())
        if summary:
            parts.append("### Summary of the earlier conversation\n" + summary)
        return "\n\n".join(parts)

    def text_of(self, message: RecallMessage) -> str:
        """The message as it enters the context: whole, or an excerpt when it alone would
        take more than `message_tokens`."""
        if message.id not in self._text_cache:
            self._text_cache[message.id] = excerpt(message, self.message_tokens, self.count_tokens)
        return self._text_cache[message.id]

    def _tokens_of(self, message: RecallMessage) -> int:
        if message.id not in self._token_cache:
            self._token_cache[message.id] = (
                self.count_tokens(self.text_of(message)) + self.per_message_tokens
            )
        return self._token_cache[message.id]

    def _system_tokens(self, summary: str) -> int:
        return self.count_tokens(self._system_text(summary)) + self.per_message_tokens

    def tokens(self) -> int:
        """Tokens the main context takes now (without the pressure warning itself)."""
        return self._system_tokens(self.state.summary) + sum(map(self._tokens_of, self._messages))

    @property
    def pressure(self) -> float:
        """Fraction of the budget in use; 1.0 and above triggers eviction."""
        return self.tokens() / self.budget

    def report(self, evicted: Sequence[str] = ()) -> PagingReport:
        tokens = self.tokens()
        return PagingReport(
            tokens, self.budget, tokens >= self.warn_at * self.budget, tuple(evicted)
        )

    def context(self, skip: Collection[str] = ()) -> list[Message]:
        """The messages to send to the model: one system message, then recent messages
        (less the ids in `skip`). Under memory pressure the system message ends with the
        pressure warning."""
        system = self._system_text(self.state.summary)
        pressure = self.pressure
        if pressure >= self.warn_at:
            warning = load_prompt("longagent.memory", "memory_pressure").format(
                percent=round(100 * pressure)
            )
            system = f"{system}\n\n{warning.strip()}" if system else warning.strip()
        out = [Message(role="system", content=system)] if system else []
        out.extend(
            Message(role=m.role, content=self.text_of(m))  # type: ignore[arg-type]
            for m in self._messages
            if m.id not in skip
        )
        return out

    # -- writing -------------------------------------------------------------------------

    def append(self, role: str, content: str) -> PagingReport:
        """Record a message (recall first: once this returns it is durable), put it in
        context, and evict if the budget is reached."""
        if role not in _ROLES:
            raise ValueError(f"role must be one of {sorted(_ROLES)}, got {role!r}")
        message = RecallMessage(agent=self.agent, role=role, content=content)
        self.store.recall.add([message])
        self._messages.append(message)
        self.state.watermark = message.created_at
        self._save_state()
        if self.pressure >= self.flush_at:
            return self.report(self.evict())
        return self.report()

    def evict(self) -> tuple[str, ...]:
        """Move the oldest messages out of context until it is about `target` full (the
        newest message always stays) and fold them into the summary. Returns their ids."""
        goal = self.target * self.budget
        fixed = self._system_tokens("") + self.summary_tokens
        kept = list(self._messages)
        used = fixed + sum(map(self._tokens_of, kept))
        out: list[RecallMessage] = []
        while len(kept) > 1 and used > goal:
            message = kept.pop(0)
            used -= self._tokens_of(message)
            out.append(message)
        if not out:
            return ()
        summary = self._fold(self.state.summary, out)
        self._messages = kept
        self.state.summary = summary
        self.state.evicted += len(out)
        self._save_state()  # one atomic write: summary and context change together
        return tuple(m.id for m in out)

    def _fold(self, summary: str, messages: list[RecallMessage]) -> str:
        """The recursive summary: summary' = model(summary, messages). Messages that do
        not fit in one model call are folded in several calls, oldest first."""
        template = load_prompt("longagent.memory", "summarize")
        max_words = max(8, int(self.summary_tokens * 0.75))

        def prompt(summary: str, lines: list[str]) -> str:
            return template.format(summary=summary, messages="\n".join(lines), max_words=max_words)

        room = self.model.context_window - self.summary_tokens - 8
        batch: list[tuple[str, str]] = []  # (role, content), cut to fit one call
        for m in messages:
            line = f"{m.role}: {self.text_of(m)}"
            lines = [f"{r}: {c}" for r, c in batch]
            if batch and self.count_tokens(prompt(summary, [*lines, line])) > room:
                summary = self._summarize(prompt(summary, lines), summary, batch)
                batch = []
            budget_left = room - self.count_tokens(prompt(summary, []))
            line_tokens = self.count_tokens(line)
            content = self.text_of(m)
            if line_tokens > budget_left > 0:
                # One message longer than the model's window: keep its start (the whole
                # message is still in recall).
                content = content[: max(1, len(content) * budget_left // line_tokens)]
            batch.append((m.role, content))
        return self._summarize(prompt(summary, [f"{r}: {c}" for r, c in batch]), summary, batch)

    def _summarize(self, prompt: str, previous: str, batch: list[tuple[str, str]]) -> str:
        """One fold, checked: output that loops or is not about the conversation gives way
        to an extractive summary (see memory/summaries.py)."""
        request = GenerationRequest.chat(prompt, max_new_tokens=self.summary_tokens)
        text = self.model.generate([request])[0].text
        instructions = load_prompt("longagent.memory", "summarize")
        return guard(text, previous, batch, self.summary_tokens, self.count_tokens, instructions)

    # -- recall --------------------------------------------------------------------------

    def search(self, query: str, *, limit: int = 5, offset: int = 0) -> list[Hit[RecallMessage]]:
        """This agent's past messages matching `query`, evicted ones included."""
        return self.store.recall.search(query, limit=limit, offset=offset, agent=self.agent)


def excerpt(message: RecallMessage, limit: int, count_tokens: Callable[[str], int]) -> str:
    """`message.content` if it fits in `limit` tokens, else its start and end around a
    note that says what was left out and where the whole text is: a long paste often asks
    its question at the end."""
    content = message.content
    tokens = count_tokens(content)
    if tokens <= limit:
        return content
    chars = len(content) * limit // tokens
    for _ in range(20):  # shrinks by a quarter each time: bounded
        head, tail = content[: chars * 2 // 3], content[len(content) - chars // 3 :]
        note = (
            f"\n[... {len(content) - len(head) - len(tail):,} of {len(content):,} characters "
            f"are left out here to fit the context; the whole message is kept in recall "
            f"memory (id {message.id[:8]}) ...]\n"
        )
        text = head + note + tail
        if count_tokens(text) <= limit or chars == 0:
            return text
        chars = chars * 3 // 4
    return note.strip()
