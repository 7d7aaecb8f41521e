"""The natural-question suite: questions written the way people ask them, over real documents.

Documents are free-software manuals shipped by Debian (man pages as text and PDF, Python's
HOWTO and Debian Policy as HTML); see data/natural/SOURCES.md. Each question has a fixed
`split`: `dev` for tuning, `test` for reporting only, and `blind` to `blind13`, over five
documents and four more each, with questions written by people who had not seen the code,
for a final report after `test` had been looked at. Lookups carry the evidence sentence(s)
as they stand in the document; absent questions carry the words whose absence makes the
answer absent (checked against the document's text, not assumed).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from longagent.apps.bench.qa_data import NOT_FOUND

DATA = Path(__file__).parent / "data" / "natural"
Split = Literal[
    "dev",
    "test",
    "blind",
    "blind2",
    "blind3",
    "blind4",
    "blind5",
    "blind6",
    "blind7",
    "blind8",
    "blind9",
    "blind10",
    "blind11",
    "blind12",
    "blind13",
]
# dev and test (questions.json) share six documents; blind (blind.json) has five others and
# blind2 (blind2.json, stop 45), blind3 (stop 46), blind4 (stop 47), blind5 (stop 48) and
# blind6 (stop 49), blind7 and blind8 (stop 50), blind9 (stop 51), blind10 (stop 52),
# blind11 (stop 53), blind12 and blind13 (stop 54) four more each, their questions written
# by helpers who never saw the code, for a stop's final report only.
FILES = {
    "dev": "questions.json",
    "test": "questions.json",
    "blind": "blind.json",
    "blind2": "blind2.json",
    "blind3": "blind3.json",
    "blind4": "blind4.json",
    "blind5": "blind5.json",
    "blind6": "blind6.json",
    "blind7": "blind7.json",
    "blind8": "blind8.json",
    "blind9": "blind9.json",
    "blind10": "blind10.json",
    "blind11": "blind11.json",
    "blind12": "blind12.json",
    "blind13": "blind13.json",
}


class NaturalQuestion(BaseModel):
    id: str
    document: str  # a file name under data/natural
    question: str
    kind: Literal["lookup", "absent"]
    answers: list[str]
    split: Split
    evidence: list[str] = []
    not_in_document: list[str] = []
    case_sensitive: bool = False  # option letters: -R is not -r


def load_questions(split: Split | None = None, folder: Path = DATA) -> list[NaturalQuestion]:
    """The split's questions (None: every split's)."""
    names = dict.fromkeys([FILES[split]] if split else FILES.values())
    raw = [q for name in names for q in json.loads((folder / name).read_text("utf-8"))["questions"]]
    questions = [NaturalQuestion.model_validate(q) for q in raw]
    return [q for q in questions if split is None or q.split == split]


@functools.cache
def document_text(name: str, folder: Path = DATA) -> str:
    """The document as every system sees it: the project's own loader (txt, html, pdf)."""
    from longagent.chunking import load

    return load(folder / name).text


def evidence_span(text: str, evidence: str) -> tuple[int, int] | None:
    """Where `evidence` stands in `text`, whitespace aside (man pages justify their lines and
    PDFs break them anywhere): its start and end offsets, or None."""
    pattern = r"\s+".join(re.escape(word) for word in evidence.split())
    match = re.search(pattern, text)
    return (match.start(), match.end()) if match else None


def squash(text: str) -> str:
    """Whitespace-insensitive form: man pages justify lines and PDFs break them anywhere."""
    return re.sub(r"\s+", " ", text).strip()


def contains_answer(text: str, answer: str, case_sensitive: bool = False) -> bool:
    """RULER's string_match (containment), but an answer that starts or ends with a word
    character must not be glued to another one, so "-c" is not found in "--color" and
    "2" is not found in "20"."""
    left = r"(?<!\w)" if re.match(r"\w", answer) else ""
    right = r"(?!\w)" if re.search(r"\w$", answer) else ""
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.search(left + re.escape(answer) + right, text, flags) is not None


def is_correct(question: NaturalQuestion, text: str, found: bool | None) -> bool:
    """Absent questions are right only when the system says not found; lookups need found
    (or unknown) and any accepted answer in the text."""
    if question.kind == "absent":
        return found is False or (found is None and NOT_FOUND in text.lower())
    if found is False:
        return False
    return any(contains_answer(text, a, question.case_sensitive) for a in question.answers)
