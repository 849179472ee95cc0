"""The dialogue state from turn to turn: what a follow-up leaves out is filled in from the turns
before ("and how long does it take?", "what about sunday?"), and each answer's new state."""

from __future__ import annotations

import datetime

from laundrybot.dialog.hours import DAY_NAMES
from laundrybot.dialog.intents import ESCALATIONS, USES_MACHINE
from laundrybot.dialog.knowledge import MachineInfo
from laundrybot.dialog.normalize import MachineRef, Normalized
from laundrybot.dialog.state import DialogueState, OpenReport
from laundrybot.dialog.turn import (
    DAY_WORDS,
    ENTITY_FEATURES,
    NO_TOPIC,
    OBJECT_INTENTS,
    Base,
)


class Memory(Base):
    def _referential(self, norm: Normalized) -> bool:
        """Nothing but a machine reference ("its number 3", "dryer 14", "4번이요")."""
        return all(f in ENTITY_FEATURES or "_" in f or f.isdigit() for f in norm.features)

    def _topicless(self, norm: Normalized) -> bool:
        sizes = self.sizes_by_word
        return all(
            f in ENTITY_FEATURES
            or f in sizes
            or f in DAY_WORDS
            or "_" in f
            or f.isdigit()
            or self.cues.largest.fullmatch(f)  # "and the biggest"
            or self.cues.smallest.fullmatch(f)
            # "the big stack dryer": a word only its size's description says, its kind said
            or (
                f in self.described_sizes
                and norm.machine is not None
                and self.described_sizes[f].kind == norm.machine.kind
            )
            for f in norm.features
        )

    def _carried(self, intent: str, norm: Normalized) -> str:
        """The last topic, for a follow-up; a how-to follows the kind now named."""
        kinds = norm.kinds or (
            {norm.machine.kind} if norm.machine and norm.machine.kind else frozenset()
        )
        if intent in ("how-to-wash", "how-to-dry") and len(kinds) == 1:
            return "how-to-dry" if "dryer" in kinds else "how-to-wash"
        if intent in ESCALATIONS:
            return "machine-status"
        return intent

    def _inherit(
        self, intent: str, norm: Normalized, number: int | None, st: DialogueState, low: str
    ) -> tuple[Normalized, int | None]:
        """Fill in what a follow-up leaves out from the turns before: its machine, size, kind
        ("and how long does it take?") or day ("and sunday?")."""
        words = list(norm.words)
        kinds = set(norm.kinds)
        if norm.machine and norm.machine.kind:
            kinds.add(norm.machine.kind)
        sized = any(w in self.sizes_by_word for w in words)
        machine = norm.machine
        if intent in OBJECT_INTENTS and number is None and not sized:
            if st.machine is not None and (not kinds or st.kind in kinds):
                number = st.machine if intent in USES_MACHINE else None
                if st.kind and not kinds:
                    kinds.add(st.kind)
            elif not kinds or st.kind in kinds:
                if st.size:
                    words.append(st.size)
                if st.kind and not kinds:
                    kinds.add(st.kind)
        elif intent in OBJECT_INTENTS and sized and not kinds and st.kind:
            sizes = {s.kind for w in words for s in self.sizes_by_word.get(w, [])}
            if st.kind in sizes:
                kinds.add(st.kind)
        days = [
            w
            for w in words
            if w in DAY_WORDS or w in ("tomorrow", "weekend", "weekday", "weekdays")
        ]
        leans = self.cues.follow_up.search(low) or self._topicless(norm) or len(words) <= 4
        if intent in ("hours", "staff-contact") and not days and st.day is not None and leans:
            words.append(DAY_NAMES[st.day].lower())
        if number is not None:
            kind = norm.machine.kind if norm.machine else None
            machine = MachineRef(kind, number)
        elif len(kinds) == 1 and (machine is None or machine.kind is None):
            machine = MachineRef(next(iter(kinds)), None)
        return Normalized(tuple(words), norm.features, machine, frozenset(kinds)), number

    def _next_state(
        self,
        st: DialogueState,
        intent: str,
        norm: Normalized,
        machine: MachineInfo | None,
        local: datetime.datetime,
        *,
        pending: tuple[str, str] | None = None,
        report: OpenReport | None = None,
        yes_no: bool = False,
    ) -> DialogueState:
        topic = st.intent if intent in NO_TOPIC else intent
        size = next((w for w in norm.words if w in self.sizes_by_word), None)
        kind = (
            machine.kind if machine else (next(iter(norm.kinds)) if len(norm.kinds) == 1 else None)
        )
        if kind is None and norm.machine is not None:
            kind = norm.machine.kind
        day = next((DAY_WORDS[w] for w in norm.words if w in DAY_WORDS), None)
        if "tomorrow" in norm.words:
            day = (local.weekday() + 1) % 7
        same_object = machine is None and size is None and kind is None
        return DialogueState(
            intent=topic,
            machine=machine.number if machine else (st.machine if same_object else None),
            kind=kind or (st.kind if same_object or (machine is None and size) else None),
            size=size or (st.size if same_object else None),
            day=day
            if day is not None
            # Kept past a turn of no topic of its own ("I'm not sure I got that"), too.
            else (st.day if intent in ("hours", "staff-contact", *NO_TOPIC) else None),
            report=report or st.report,
            pending=pending[0] if pending else None,
            pending_kind=pending[1] if pending else None,
            turns=st.turns + 1,
            yes_no=yes_no,
        )
