"""A question, parsed once: every heuristic reads these fields instead of re-parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from longagent import text
from longagent.agents.shapes import ShapeChoice, detect

# A label before the question ("Question: Find all ...", as benchmark templates write it)
# would make its first word look like a name.
_LABEL = re.compile(r"^\s*(?:question|q)\s*:\s*", re.I)


@dataclass(frozen=True)
class Question:
    """`Question.parse("In which town was Kalomi born?")`.

    - `entities`: names, numbers and quoted strings; evidence must mention them;
    - `content_words`: its other words of substance (stopwords aside);
    - `keys`: quoted strings (a key-value question names one record by its key);
    - `bridge` and `known`: set on a follow-up hop, the finding it follows from (its new
      names, "; " between them) and that finding's evidence, fed forward to the members;
    - `shape`: what kind of answer it wants (`agents/shapes.py`), and why;
    - `document_subject`: set when every name it gives is the document's subject (in most
      of its chunks, `relevance.subject_names`): those names pin no chunk and make no
      evidence about the question;
    - `document_common`: its content words that stand in most of the document's chunks
      (`relevance.common_words`): evidence sharing only those is not about the question.
    """

    text: str
    entities: frozenset[str]
    content_words: frozenset[str]
    keys: tuple[str, ...] = ()
    bridge: str = ""
    known: str = ""
    shape: ShapeChoice = field(default_factory=ShapeChoice)
    document_subject: frozenset[str] = frozenset()
    document_common: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, question: str, shape: ShapeChoice | None = None) -> Question:
        """`shape` None: decided by the rules from the question's words."""
        question = _LABEL.sub("", question.strip()) or question.strip()
        return cls(
            text=question,
            entities=frozenset(text.entities(question)),
            content_words=frozenset(text.content_words(question)),
            keys=tuple(text.quoted(question)),
            shape=shape or detect(question),
        )

    def follow(self, bridge: str, known: str) -> Question:
        """The same question, asked again along a finding's new names (a follow-up hop)."""
        return replace(self, bridge=bridge, known=known)

    def worded(self, compounds: frozenset[str]) -> Question:
        """The question with `compounds` (hyphenated words of its own) taken as plain
        words, not names: their parts join its content words ("non-root": "non", "root")."""
        if not compounds:
            return self
        parts = {w for c in compounds for w in text.content_words(c.replace("-", " "))}
        return replace(
            self,
            entities=self.entities - compounds,
            content_words=(self.content_words - compounds) | parts,
        )

    def mentions_bridge(self, held: set[str]) -> bool:
        """Whether words `held` (evidence, a chunk) name one of the bridge's names whole:
        "small hours" (a book's title) is not mentioned by "five hours"."""
        names = [set(text.words(name)) - text.STOPWORDS for name in self.bridge.split(";")]
        return any(name and name <= held for name in names)

    @property
    def words(self) -> set[str]:
        """Every word of the question and of its bridge: what an answer must go beyond."""
        return set(text.words(self.text)) | set(text.words(self.bridge))

    @property
    def named(self) -> bool:
        """Whether names, numbers or keys of its own (not the document's subject) chose the
        chunks to read, rather than topic words alone."""
        return bool(self.entities - self.document_subject)

    @property
    def names_a_record(self) -> bool:
        """Whether it names a record by an identifier: a key of 8 or more characters with a
        digit (a UUID, a hash, a long number), not a hyphenated word ("zero-length")."""
        keys = text.record_keys(self.text)
        return any(len(k) >= 8 and any(ch.isdigit() for ch in k) for k in keys)

    @property
    def subject(self) -> set[str]:
        """The words that name what is asked about: the bridge's on a follow-up hop, else
        the entities' words, else the content words."""
        if self.bridge:
            names, said = frozenset(text.entities(self.bridge)), text.content_words(self.bridge)
        else:
            names, said = self.entities, set(self.content_words)
        return {w for e in names for w in e.split()} or said

    def __str__(self) -> str:
        return self.text
