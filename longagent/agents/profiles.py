"""Profiles: the knobs that depend on how capable the model is, in one place.

A 135M model misses facts in long input and often copies its instructions, so the small
profile reads 512-token chunks and re-reads focused passages eight ways; a capable served
model reads larger chunks once and lets the model lead (the paper's leader). The profile is
chosen from the model (a `profile` hint it carries, else its window) and can be set by
`LongAgent(profile=...)`, `--profile` or `LONGAGENT_PROFILE`; single knobs override it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from longagent.errors import ConfigError
from longagent.llm import ChatModel

Style = Literal["instructed", "plain", "free"]
LeaderName = Literal["rule", "model"]


@dataclass(frozen=True)
class Profile:
    name: str
    # Measured: the 135M model finds facts better in small chunks (bench qa).
    chunk_tokens: int
    # A focus round reads each passage in these prompt styles, greedy and up to
    # `focus_samples` more times sampled. Measured on the 8 single-fact questions whose
    # first reading failed: the plain style alone rescued 5-6, sampling the instructed
    # style 5; a two-hop needle's follow-up needed the samples (stop 52).
    focus_styles: tuple[Style, ...]
    focus_samples: int
    # The search reads each ranked passage once in each of these styles, greedy. For the
    # 135M model a second (instructed) reading doubled a search's cost and grounded no
    # right answer (README, "Stop 40"). Held to JSON, its plain readings were mostly
    # runaway text; read freely they decode 59% fewer tokens, with 41 of 42 natural dev
    # answers and all 80 synthetic verdicts the same ("Stop 41"). Focus rounds keep their
    # JSON styles: read freely there, the synthetic suite lost two key-value needles.
    search_styles: tuple[Style, ...]
    # ... and in these when the question names a record by an identifier (a UUID, a hash,
    # a long number: `Question.names_a_record`): its answer is the value on the
    # key's line, which a JSON quote copies verbatim (`repairs.record_value` then takes
    # it) and a free sentence miscopied (RULER seed 11, multikey_3 at 4K).
    key_search_styles: tuple[Style, ...]
    # ... sampled only as far as `focus_budget` readings a round allow (0: no limit),
    # shared by its members; each member keeps its greedy reading in each style, however
    # many there are. A name in eight chunks of a manual made 64 readings, most of
    # a three-round question's time; on eight dev questions four readings a member instead
    # of eight gave the same answers, and a budget of 8 lost a two-hop needle whose
    # follow-up focused on two chunks (README, stop 52).
    focus_budget: int = 0
    # ... and at most this many when the round is a first hop's and the search may still
    # follow it (None: `focus_samples`); a question naming a record by its key keeps
    # `focus_samples`, its answer being on the key's own line (without them the synthetic
    # 4K slice lost a key-value needle). On blind10 five such rounds were 18% of the
    # split's time and grounded nothing; greedy only, four natural dev splits gave the same
    # 150 answers with 2-9% fewer tokens (README, stop 53).
    focus_samples_before_search: int | None = None
    focus_temperature: float = 0.8
    # A quote (<= 200 chars) and an answer (<= 80) as compact JSON: ~75 tokens of prose,
    # but man-page and code text tokenizes at ~2.5 chars a token, and 10% of replies over
    # such documents were cut off at 110 (measured for issue #18). Unused room costs nothing.
    reply_tokens: int = 160
    # A reply whose last this many tokens repeat a short pattern is cut off there (it is
    # invalid, as at the token limit): on 12 natural dev questions 37 of 180 readings ran
    # to the limit, 33 of them in such a loop, and cutting at 32 tokens saves 28% of all
    # decoded tokens; the 2 replies it would cut that had ended on their own were loops
    # the verifier refused. 0: never (`GenerationRequest.stop_loops`).
    loop_tokens: int = 32
    # A free reading (style "free") writes one short sentence, not JSON; it stops at the
    # sentence's end. A batch decodes until its longest reply ends: of 488 free replies
    # over the natural dev split 17 ran past 48 tokens, all code blocks or loops, none
    # grounded, and they made 17% of the search's decoding steps (README, "Stop 44").
    # A question naming a record by a UUID is read in JSON (`key_search_styles`).
    free_reply_tokens: int = 48
    prompt_room: int = 200  # instructions and question around a chunk, in tokens
    wave: int = 8  # members per wave when reading by relevance
    # When the question's words ground nothing, readers read the likeliest passages (a few
    # sentences each), this many per wave, until a wave grounds an answer: k grows 4, 12.
    search_waves: tuple[int, ...] = (4, 8)
    # ... all in one batched call, the replies judged wave by wave as before (a later
    # wave's are dropped once one grounds): on CPU a batch decodes until its longest reply
    # ends, and one call made 38% fewer decoding steps than the two waves' calls (natural
    # dev, README "Stop 44"). A served model batches across calls and need not read ahead.
    search_ahead: bool = False
    # A question naming nothing (no name, number or key: `Question.named`) whose words stand
    # in more chunks than this is not read chunk by chunk: the search reads its likeliest
    # passages first. Such chunks were guesses: on the natural dev split, the synthetic
    # suite and RULER, skipping them changed no verdict (README, "Stop 42"), while on
    # bash's manual they were 14 of a question's 22 s in the model. A chunk or two that the
    # words pin (the synthetic "pass key") is still read: skipping all of them lost a
    # passkey, whose search must first embed the whole document. 0: always read them.
    topic_chunks: int = 0
    # A collection (every value of a key, every item of a list, each link of a chain) reads
    # ranked passages in these waves until one adds nothing new: at most 20 passages.
    collect_waves: tuple[int, ...] = (4, 8, 8)
    # A collection's passages that name the key and grounded nothing are read again this
    # many times sampled (the 135M model's greedy reading often echoes the key).
    collect_samples: int = 0
    chain_hops: int = 8  # links a chain follows at most (RULER's variable tracking: 4)
    overview_members: int = 8  # chunks an overview summarises (spread over the document)
    # How an overview's members say what their chunk holds: "model" writes a summary with
    # its quote; "extractive" cites the chunk's passage closest to the document's centre
    # (or to the asked topic), with no model call. The 135M model's summaries of five real
    # documents were mostly its instructions echoed or off topic (bench shapes, issue #19).
    summaries: Literal["model", "extractive"] = "model"
    # When `extract` is on and the search grounds nothing, the first wave's window closest
    # in meaning to the question, among those holding a value of the kind it asks for
    # (`agents/answer_types.py`), answers if its MiniLM similarity reaches the first bar
    # (the second for a question naming only the document's subject, measured without its
    # names; `agents/extraction.py`). Off by default (README, issue #18).
    extract: bool = False
    extract_threshold: float = 0.70
    extract_subject_threshold: float = 0.48
    # ... and is looked for before the readers read: a sentence that reaches the bar
    # answers without them. For a reader that rarely phrases an answer (the 135M model
    # grounded 1 of 20 natural test lookups), reading first only costs time; a capable
    # model's phrased answer is worth waiting for.
    extract_first: bool = False
    # Opt-in: a member's quote held to its passage's own sentences (a JSON-schema enum,
    # `member.quote_schema`). Given the answer's own chunk the 135M reader quoted the
    # evidence in 13 of 60 readings held, none free; but whole runs lost 2 of 10
    # synthetic 4K needles its free quote had found (README, stop 35). A free reading
    # (the search's) quotes nothing and is not held.
    quote_held: bool = False
    max_rounds: int = 4
    leader: LeaderName = "rule"


PROFILES: dict[str, Profile] = {
    "small": Profile(
        name="small",
        chunk_tokens=512,
        focus_styles=("plain", "instructed"),
        focus_samples=3,
        focus_budget=16,
        focus_samples_before_search=0,
        search_styles=("free",),
        key_search_styles=("plain",),
        search_ahead=True,
        topic_chunks=2,
        collect_samples=3,
        summaries="extractive",
        extract_first=True,
    ),
    "large": Profile(
        name="large",
        chunk_tokens=4096,
        focus_styles=("instructed",),
        focus_samples=0,
        search_styles=("instructed",),
        key_search_styles=("instructed",),
        max_rounds=6,
        leader="model",
    ),
}
LARGE_WINDOW = 16_384  # other models with at least this window get the large profile
# Registry hints: models whose size the window does not tell (an extended small model).
MODEL_PROFILES = {"smollm2-135m": "small"}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"Unknown profile {name!r}; choose from {sorted(PROFILES)}.")
    return PROFILES[name]


def profile_for(model: ChatModel, name: str | None = None, **overrides: object) -> Profile:
    """The profile `name` (or the model's own hint, else the one its window suggests), with
    the knobs in `overrides` that are not None set on top."""
    if name is None:
        hint = getattr(model, "profile", None)
        name = hint if isinstance(hint, str) else MODEL_PROFILES.get(model.name)
    if name is None:
        name = "large" if model.context_window >= LARGE_WINDOW else "small"
    profile = get_profile(name)
    chosen = {k: v for k, v in overrides.items() if v is not None}
    unknown = set(chosen) - set(Profile.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"Unknown profile setting(s) {sorted(unknown)}.")
    return replace(profile, **chosen)  # type: ignore[arg-type]
