"""Fitting an answer to speech: a yes/no question's answer leads with yes or no; a question
the attendant cannot serve is declined, an unsure one asks which of two topics was meant."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from laundrybot.dialog.intents import ESCALATIONS
from laundrybot.dialog.memory import Memory
from laundrybot.dialog.normalize import Normalized
from laundrybot.dialog.state import DialogueState
from laundrybot.dialog.turn import DAY_WORDS, ENTITY_FEATURES, Answer, Turn, sentences
from laundrybot.machines.state import MachineState, MachineStatus

# Below this a classifier's best guess is a coincidence; between it and THRESHOLD the answer is
# a clarifying question naming the two likeliest topics.
CLARIFY_FLOOR = 0.22


class Shaping(Memory):
    size_words: frozenset[str]  # set up by Dialog.__init__: words only a size's description has

    def _shaped(self, answer: Answer, turn: Turn, low: str, *, yes_no: bool) -> str:
        """Fit the answer to speech: a yes/no question (``yes_no``) starts with its answer."""
        text = answer.text.strip()
        cues = self.cues
        if cues.when.search(low):
            return text
        if not yes_no and not (
            answer.intent == "staff-contact" and self._staff_at(turn) is not None
        ):
            # "what about at 11 in the morning" after staff hours: whether they are in then,
            # however it is put.
            return text
        yes = self._polarity(answer, turn, low)
        if yes is None:
            return text
        head = text.lower()
        marks = (cues.yes.lower().strip(" ,"), cues.no.lower().strip(" ,"), "sorry", "죄송")
        if head.startswith(marks):
            return text
        lead = cues.yes if yes else cues.no
        first = text.split(maxsplit=1)[0].strip(",.") if text.split() else ""
        named = first in self.say.day_names  # "Yes, Monday to Friday, ...": a name stays one
        if (
            self.language.code == "en"
            and not text[:2].isupper()
            and not text.startswith("I ")
            and not named
        ):
            text = text[:1].lower() + text[1:]
        return lead + text

    def _yes_no(self, low: str) -> bool:
        """A yes/no question, also after a condition put first ("if I come sunday at 3 will
        somebody be working")."""
        cues = self.cues
        if cues.yes_no.search(low):
            return True
        said = cues.condition.match(low)
        return said is not None and bool(cues.yes_no.search(low[said.end() :].lstrip()))

    def _named_size_fits(self, turn: Turn) -> bool | None:
        """Whether the one size a question names takes the thing it asks about ("comforter"):
        its description or a smaller size's says so (a bigger machine takes what a smaller one
        does). None when it names no size, or several, or no thing any description names."""
        named = {s for w in turn.norm.words for s in self.sizes_by_word.get(w, [])}
        if turn.kind is not None:
            named = {s for s in named if s.kind == turn.kind}
        asked = set(self.size_words) & set(turn.norm.features)
        if len(named) != 1 or not asked:
            return None
        (size,) = named
        sizes = sorted(self.knowledge.sizes(size.kind), key=lambda s: s.price)
        takes = [
            i for i, s in enumerate(sizes) if asked & set(self.normalize(s.description).features)
        ]
        if not takes:
            return None
        return sizes.index(size) >= takes[0]

    def _granted_later(self, text: str, norm: Normalized) -> bool:
        """A later sentence of the answer grants what is asked leave for, in its words."""
        asked = {f for f in norm.features if "_" not in f} - ENTITY_FEATURES
        return any(
            self.cues.grants.search(x) and asked & set(self.normalize(x).features)
            for x in sentences(text)[1:]
        )

    def _bare_follow_up(self, low: str) -> bool:
        """ "and quarters?", "what about tapping my phone": a follow-up that puts no question
        of its own, so it is put the way the question before it was."""
        cues = self.cues
        lead = cues.follow_up.search(low)
        if lead is None:
            return False
        rest = (low[: lead.start()] + " " + low[lead.end() :]).strip(" ?.!")
        return bool(rest) and not cues.asks.search(rest) and not cues.when.search(rest)

    def _polarity(self, answer: Answer, turn: Turn, low: str) -> bool | None:
        cues = self.cues
        intent = answer.intent
        if intent == "machine-status" and turn.machine is not None:
            status = turn.statuses.get(turn.machine.number)
            said = turn.norm.machine.kind if turn.norm.machine else None
            if status is None or status.state is MachineState.UNKNOWN:
                return None  # nothing known: no yes and no no
            if said is not None and said != turn.machine.kind:
                return None
            if cues.says_broken.search(low):
                return status.state is MachineState.OUT_OF_ORDER  # "is 4 broken?" - "No, ..."
            if cues.asks_busy.search(low):
                return status.state is MachineState.BUSY
            if cues.asks_working.search(low):
                return status.state is not MachineState.OUT_OF_ORDER
            return status.state is MachineState.FREE
        if intent == "free-machines":
            # Some free: yes; none free: no; no machine's state known: neither.
            return {"happy": True, "apologetic": False}.get(answer.expression)
        if intent == "machine-info" and turn.machine is not None:
            named = [w for w in turn.norm.words if w in self.sizes_by_word]
            if named:  # "is that one of the big ones" about dryer 12: its size, yes or no
                m = turn.machine
                return self.knowledge.size_info(m.kind, m.size).name in named
        if intent == "machine-info" and turn.machine is None:
            fits = self._named_size_fits(turn)
            if fits is not None:
                return fits  # "will the large washer take a comforter": what it is good for
        if intent == "hours":
            shop = self.knowledge.shop_hours
            day = next((DAY_WORDS[w] for w in turn.norm.words if w in DAY_WORDS), None)
            if "tomorrow" in turn.norm.words:
                day = (turn.now.weekday() + 1) % 7
            if day is not None:
                open_then = shop.always or shop.days[day] is not None
            else:
                open_then = shop.always or shop.is_open(turn.now)
            # "are you closed on sunday": yes means closed.
            return not open_then if cues.asks_closed.search(low) else open_then
        at = self._staff_at(turn) if intent == "staff-contact" else None
        if at is not None:
            return at[1]  # "will anyone be here at 7?": whether staff are in then
        if intent == "staff-contact" and cues.asks_staff.search(low):
            if any(w in DAY_WORDS or w == "tomorrow" for w in turn.norm.words):
                return None
            return self.knowledge.staff_hours.is_open(turn.now)
        if intent == "payment" and cues.asks_need.search(low):
            # "do I need quarters": not when there are other ways to pay.
            return len(self.knowledge.payment_methods) <= 1
        if intent in ("payment", "detergent"):
            return True
        if cues.may_i.search(low) and cues.grants.search(answer.text):
            return True  # "can I add time once it's going" - "You can add more time ..."
        if cues.may_i.search(low) and self._granted_later(answer.text, turn.norm):
            return True  # "can I text it" - "Staff are here until 8 PM. You can call or text"
        if intent.startswith("rule:"):
            return False
        return None

    def _decline(
        self,
        norm: Normalized,
        key: str,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
        place: str = "",
    ) -> Answer:
        text = f"{self.say(key, place=place)} {self.say('can_help')}"
        state = self._next_state(st, "decline", norm, None, local)
        return self._made(text, "fallback", None, state, "thinking", 0.0, source="fallback")

    def _unsure(
        self,
        norm: Normalized,
        ranked: list[tuple[str, float]],
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        """Low confidence: ask which of the two likeliest topics was meant, or say plainly
        that this is something the attendant does not know."""
        topics = [
            (i, sc) for i, sc in ranked
            if f"topic:{i}" in self.say.templates and i not in ESCALATIONS
        ]  # fmt: skip
        state = self._next_state(st, "fallback", norm, None, local)
        score = ranked[0][1] if ranked else 0.0
        if len(topics) >= 2 and topics[1][1] >= CLARIFY_FLOOR:
            text = self.say(
                "clarify",
                a=self.say(f"topic:{topics[0][0]}"),
                b=self.say(f"topic:{topics[1][0]}"),
            )
            return self._made(text, "fallback", None, state, "thinking", score, source="fallback")
        heard = bool(norm.features)
        if not heard:
            text = self.say("fallback", opening=self.say("fallback_unheard"))
        else:
            text = f"{self.say('dont_know')} {self.say('can_help')}"
        return self._made(
            text, "fallback", None, state, "thinking", min(score, 0.3), source="fallback"
        )

    def _fallback(self, turn: Turn) -> Answer:
        # No content words at all ("um", noise): say so, rather than "can't help".
        heard = bool(turn.norm.features)
        opening = self.say("fallback_unclear" if heard else "fallback_unheard")
        text = self.say("fallback", opening=opening)
        return self._reply(turn, text, source="fallback", expression="thinking")
