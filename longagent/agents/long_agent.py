"""`LongAgent(model).ask(doc, question)`: the facade over the question pipeline.

    Question -> Reading (which members, in what order) -> Runner executing the Leader's
    actions, each one batched model call, every reply judged by the Verifier -> Answer,
    whose grounded findings go to the ThoughtStore for later questions.

Each stage is a seam with a registry by name, so a new verifier, reading or leader is one
class plus one argument: `LongAgent(model, verifier="mine", leader=MyLeader())`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from longagent.agents import library_qa, refusals, relevance, thought_first
from longagent.agents.judged import bound
from longagent.agents.leader import Leader, make_leader
from longagent.agents.library_qa import PreparedLibrary
from longagent.agents.prepared import PreparedDocument
from longagent.agents.profiles import Profile, profile_for
from longagent.agents.question import Question
from longagent.agents.reading import Reading, ReadPlan, Relevance, get_reading
from longagent.agents.runner import EventHandler, Runner
from longagent.agents.shape_rounds import compose
from longagent.agents.thoughts import InMemoryThoughts, ThoughtStore, thoughts_of
from longagent.agents.types import Answer
from longagent.agents.verifier import Verifier, get_verifier
from longagent.chunking import Document, chunk_budget, load, split
from longagent.config import Settings
from longagent.errors import ConfigError, DocumentError, LongAgentError
from longagent.llm import ChatModel
from longagent.llm.usage import MeteredModel
from longagent.memory.embedder import Embedder
from longagent.memory.library import Library


class LongAgent:
    """`LongAgent(model).ask(doc, question)`; `doc` is a string of text, a path, a
    `Document`, a `PreparedDocument` (split once, reused) or a `Library` (every document
    in it: its best chunks for the question are read).

    Every stage can be swapped, by registered name or by instance:
    - `reading`: "sweep" (default: every member whose chunk could ground an answer, at
      once), "relevance" (ranked, `wave` at a time), "all" (the paper), or a `Reading`;
    - `verifier`: "lexical" (default), "semantic", "judged" (the semantic
      checks, then the model confirms the evidence gives the answer: for served models),
      or a `Verifier`;
    - `leader`: "auto" (the profile's: rules for small models, the model for large ones),
      "rule", "model", or a `Leader`;
    - `thoughts`: where grounded findings are kept (in memory by default; `LanceThoughts`
      keeps them in LanceDB);
    - `profile`: "small" or "large" (default: chosen from the model); `chunk_tokens`,
      `max_rounds`, `wave` and `extract` (when no reply grounds, the search's read sentence
      closest in meaning may answer: `agents/extraction.py`) override its knobs. Unset
      arguments fall back to `LONGAGENT_*` settings.
    """

    def __init__(
        self,
        model: ChatModel,
        *,
        reading: str | Reading | None = None,
        verifier: str | Verifier | None = None,
        leader: str | Leader | None = None,
        profile: str | Profile | None = None,
        chunk_tokens: int | None = None,
        max_rounds: int | None = None,
        wave: int | None = None,
        extract: bool | None = None,
        embedder: Embedder | None = None,
        thoughts: ThoughtStore | None = None,
        on_event: EventHandler | None = None,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or Settings()
        for name, value in (
            ("chunk_tokens", chunk_tokens),
            ("max_rounds", max_rounds),
            ("wave", wave),
        ):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}.")
        if isinstance(profile, Profile):
            self.profile = profile
        else:
            self.profile = profile_for(
                model,
                profile or settings.profile,
                max_rounds=max_rounds or settings.max_rounds,
                wave=wave,
                extract=settings.extract if extract is None else extract,
            )
        self.model = model
        self.verifier = get_verifier(verifier or settings.verifier)
        reading = reading or settings.reading
        if reading == "relevance":
            reading = Relevance(self.profile.wave, embedder)
        self.reading = get_reading(reading)
        self.leader = leader or settings.leader
        make_leader(self.leader, model, self.verifier, self.profile.leader)  # fail early
        self.embedder = embedder
        self.thoughts = thoughts if thoughts is not None else InMemoryThoughts()
        self.on_event = on_event
        room = self.profile.reply_tokens + self.profile.prompt_room
        self.chunk_tokens = (
            chunk_tokens
            or settings.chunk_tokens
            or min(self.profile.chunk_tokens, chunk_budget(model, answer_tokens=room))
        )

    @property
    def max_rounds(self) -> int:
        return self.profile.max_rounds

    def prepare(self, doc: str | Path | Document) -> PreparedDocument:
        document = doc if isinstance(doc, Document) else load(doc)
        return PreparedDocument(
            document, split(document, self.model.count_tokens, self.chunk_tokens)
        )

    def ask(
        self,
        doc: str | Path | Document | PreparedDocument | Library,
        question: str,
        on_event: EventHandler | None = None,
        *,
        document: str | None = None,
    ) -> Answer:
        """`doc` a `Library`: the question over all its documents, or over one `document`
        of it (see `ask_library`)."""
        if not isinstance(question, str):
            raise LongAgentError(f"The question must be text, not {type(question).__name__}.")
        if not question.strip():
            raise LongAgentError("The question is empty.")
        if isinstance(doc, Library):
            return self.ask_library(doc, question, on_event=on_event, document=document)
        if document is not None:
            raise ConfigError("document= names a document of a library; ask a Library")
        prepared = doc if isinstance(doc, PreparedDocument) else self.prepare(doc)
        embedder = self.embedder
        if embedder is None and isinstance(prepared, PreparedLibrary) and prepared.library:
            embedder = prepared.library.embedder  # as `ask_library` ranks
        return self._run(prepared, question, on_event, embedder)

    def ask_library(
        self,
        library: Library,
        question: str,
        k: int | None = None,
        on_event: EventHandler | None = None,
        document: str | None = None,
    ) -> Answer:
        """A question over every document of `library`: its `k` best chunks for the
        question (default: the profile's wave, 8 for small models) are the members'
        chunks. Citations name their document (id, path, title), the span in it and, for
        a PDF, the page. `document` (an id, id prefix or path) asks that document alone:
        all its chunks are members, as `ask FILE` reads a file."""
        if not question.strip():
            raise LongAgentError("The question is empty.")
        prepared = self.prepare_library(library, question, k, document=document)
        return self.ask(prepared, question, on_event)

    def prepare_library(
        self, library: Library, question: str, k: int | None = None, document: str | None = None
    ) -> PreparedLibrary:
        """The members' chunks for `question`: the library's `k` best, in rank order (all
        of `document`'s, in order, when one is named)."""
        k = self.profile.wave if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be a whole number of at least 1, not {k!r}.")
        thoughts = library_qa.thought_store(library, self.embedder)
        prepared = library_qa.prepare(
            library,
            question,
            k,
            self.model.count_tokens,
            self.chunk_tokens,
            document=document,
            thoughts=thoughts,
        )
        if not prepared.chunks and not library.documents():
            raise DocumentError(
                f"the library {library.name!r} has no documents; add some with "
                f"`longagent add PATH --library {library.name}`"
            )
        return prepared

    def _run(
        self,
        prepared: PreparedDocument,
        question: str,
        on_event: EventHandler | None,
        embedder: Embedder | None,
    ) -> Answer:
        parsed = Question.parse(question)
        if parsed.shape.shape == "multi_query":
            parts = [self._run(prepared, part, on_event, embedder) for part in parsed.shape.parts]
            return compose(parsed, parts)
        # A library's chunks are chosen by rank; a collection reads ranked passages anyway.
        if parsed.shape.shape in ("lookup", "explain") and not isinstance(
            prepared, PreparedLibrary
        ):
            parsed = relevance.in_document(parsed, prepared.chunks)
        model = MeteredModel(self.model)
        profile = self.profile
        # A library's questions keep their thoughts in the library (see library_qa).
        thoughts = prepared.thoughts or self.thoughts
        remembered, asked = refusals.recall(prepared, parsed, thoughts, self.setting())
        if remembered is not None:
            return remembered
        plan = self.reading.plan(prepared, parsed, self.verifier, thoughts)
        if profile.search_waves or profile.collect_waves:  # embedded only if a search runs
            index = prepared.passage_index(embedder)
            plan = replace(
                plan,
                index=index,
                search_waves=profile.search_waves,
                collect_waves=profile.collect_waves,
                overview_members=profile.overview_members,
            )
            guessed = plan.by_words and not parsed.named
            lookup = parsed.shape.shape in ("lookup", "explain")
            if lookup and guessed and 0 < profile.topic_chunks < len(plan.readers):
                # Topic words standing in many chunks pin none: read the likeliest passages.
                plan = replace(plan, readers=[], wave=0)
        # A chain takes one round per link it follows.
        chain = parsed.shape.shape == "chain"
        rounds = max(profile.max_rounds, profile.chain_hops + 1) if chain else profile.max_rounds

        def execute(plan: ReadPlan) -> Answer:
            verifier = bound(self.verifier, model)  # a judging verifier asks the metered model
            leader = make_leader(self.leader, model, verifier, profile.leader)
            return Runner(
                model,
                prepared,
                parsed,
                plan,
                leader=leader,
                verifier=verifier,
                profile=profile,
                max_rounds=rounds,
                on_event=on_event or self.on_event,
            ).run()

        answer = thought_first.run(
            prepared, parsed, plan, thoughts, embedder, execute, model=self.model.name
        )
        if isinstance(prepared, PreparedLibrary):
            answer = library_qa.cite(answer, prepared)
        refusals.keep(thoughts, asked, prepared, answer)
        # cited: with their documents; a thought names its model, whose repeat it answers
        found = [replace(t, model=self.model.name) for t in thoughts_of(answer)]
        thoughts.remember(prepared.document.id, found)
        return answer

    def setting(self) -> str:
        """Names the model and every stage and knob that decides an answer (the key a
        remembered refusal is kept under, with the question and the text)."""
        # The model by name, window and context extension (a model extended another way
        # reads the same chunks differently).
        extension = getattr(self.model, "extension", None)  # only the embedded model extends
        stages = [self.model.name, str(self.model.context_window), repr(extension)]
        stages += [repr(self.profile), str(self.chunk_tokens)]
        stages += [_described(s) for s in (self.verifier, self.reading, self.leader)]
        return "\0".join(stages)

    def ask_many(self, doc: str | Path | Document, questions: Iterable[str]) -> list[Answer]:
        """Several questions over one document, split and prepared once."""
        prepared = self.prepare(doc)
        return [self.ask(prepared, q) for q in questions]


def _described(stage: object) -> str:
    """A stage by its class and plain settings (not its address: the same across
    processes)."""
    if isinstance(stage, str):
        return stage
    plain = {
        name: value
        for name, value in sorted(getattr(stage, "__dict__", {}).items())
        if isinstance(value, str | int | float | bool | type(None))
    }
    return f"{type(stage).__module__}.{type(stage).__qualname__}{plain}"
