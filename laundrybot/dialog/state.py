"""What a conversation is about so far: the dialogue state one session carries between turns.

Dialog.answer takes the state of the turns before and returns the new one on its Answer, so a
follow-up without its own topic or object ("and how long does it take?", "what about 6",
"its number 3" after a report) resolves against it. The state is small and immutable; the
gateway keeps one per kiosk session and passes it back in with the next question.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OpenReport:
    """The staff report this session filed: its kind (an escalation) and the machine, if known."""

    kind: str  # "call-staff" | "money-taken" | "machine-broken"
    machine: int | None = None


@dataclass(frozen=True, slots=True)
class DialogueState:
    intent: str | None = None  # the last topic ("prices", "machine-status", "faq:wifi"...)
    machine: int | None = None  # the machine the last turns were about
    kind: str | None = None  # "washer" | "dryer"
    size: str | None = None  # a size name said ("large", "giant")
    day: int | None = None  # a weekday asked about, Monday = 0
    report: OpenReport | None = None  # the report filed in this session, if any
    # What the last answer asked or offered, so a short reply means something:
    #   "report-machine": a vague problem, asked which machine (``pending_kind`` is what to file)
    #   "machine": asked which machine for a status or time question
    #   "steps": offered the rest of a how-to (``pending_kind`` is its intent)
    pending: str | None = None
    pending_kind: str | None = None
    turns: int = 0
    # The last question was put as a yes/no one ("do you take cards"): a follow-up with no
    # question of its own ("and quarters?") is one too.
    yes_no: bool = False
    # The last answer counted the machines of a kind ("how many washers"): a follow-up naming
    # another kind ("and dryers?", "건조기는요?") is counted too.
    counted: bool = False
    # The last reply, so "say that again" is answered with it (at most MAX_SAID characters).
    said: str = ""
    # The last turn asked two things of one object ("how much is the regular and how long does
    # it run"): the topic asked first, besides ``intent``, so a follow-up with no topic of its
    # own ("what about the large?") is asked of both.
    also: str | None = None
