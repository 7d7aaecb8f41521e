"""A chain's links read from assignment lines (RULER's variable tracking): where the reader
missed a link, the line's syntax names the variable that takes the value
(`shape_rounds.collect` calls `assignments` for each wave of a chain)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from longagent import text
from longagent.agents import ranking
from longagent.agents.types import Citation, MemberReport

if TYPE_CHECKING:
    from longagent.agents.runner import Runner


# An assignment: "VAR KUYAW = VAR KIMBV", "x := y", "export PATH=$HOME/bin", "b <- a".
_ASSIGNMENT = re.compile(r"^(?P<target>[^=\n]{1,60}?)\s*(?::=|=|<-)\s*(?P<source>[^=\n]+)$")
ASSIGNMENT_TARGET_WORDS = 4  # a longer left side is prose that holds "=", not a name


def assignments(
    runner: Runner,
    wave: list[ranking.Passage],
    reports: list[MemberReport],
    value: str,
    followed: list[str],
) -> None:
    """A chain's link read from its line's syntax where the reader missed it. The 135M
    model read "VAR AKMLJ = VAR BNRBQ" for BNRBQ and answered "VAR" or echoed "BNRBQ";
    the line says which name takes the value. A report that grounded no new link is
    replaced (in place, so the trace shows it) by the assignment's target, cited."""
    index = runner.state.plan.index
    same = runner.verifier.same_answer
    if index is None or not value:
        return
    for passage, report in zip(wave, reports, strict=True):
        if report.verdict == "grounded" and not any(same(report.answer, v) for v in followed):
            continue
        chunk = runner.chunks[passage.chunk]
        for start, end in text.sentences(index.text(passage)):
            offset = passage.start + start
            line = chunk.text[offset : passage.start + end]
            target = assignment_target(line, value, runner.document.text)
            if target is None:
                continue
            report.answer, report.verdict = target, "grounded"
            report.reason = f"the reader missed it: {target} = ... {value}, read from the line"
            report.evidence = Citation.of(chunk, passage.chunk, offset, offset + len(line))
            break


def assignment_target(line: str, value: str, document: str) -> str | None:
    """The name `line` assigns `value` to ("VAR KUYAW = VAR KIMBV" assigns KIMBV to
    KUYAW), or None when the line is no assignment of it. The target's name is its rarest
    word: "VAR" stands on every line of such a listing, "export" before a shell's name."""
    match = _ASSIGNMENT.match(line.strip().rstrip(";").strip())
    if match is None:
        return None
    names = text.WORD.findall(match["target"])
    if not names or len(names) > ASSIGNMENT_TARGET_WORDS:
        return None
    if occurrences(value, match["source"]) == 0 or occurrences(value, match["target"]):
        return None
    # The rarest word, the last on a tie: the name stands right before the "=".
    target = min(reversed(names), key=lambda w: occurrences(w, document))
    return None if structural(target, value, document) else target


LINK_SPREAD = 3  # a link stands on at most this many times as many lines as its value


def structural(item: str, value: str, document: str) -> bool:
    """Whether a chain's item is part of every record's form, not a value: it stands
    far more often than the value it was found from ("VAR" of "VAR KUYAW = VAR KIMBV")."""
    return occurrences(item, document) > LINK_SPREAD * max(2, occurrences(value, document))


def occurrences(word: str, document: str) -> int:
    return len(re.findall(rf"(?<![\w-]){re.escape(word)}(?![\w-])", document))
