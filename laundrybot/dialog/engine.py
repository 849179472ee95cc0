"""The dialogue brain v1: a question + machine status + the time -> a short spoken Answer.

Dialog precomputes everything from the knowledge file (phrase index, speller, lookups) so that
answer() is pure computation with no I/O: it runs on the gateway's event loop.

Every answer ends with something the customer can do next (look at the display, use another
machine, call the staff number), because nobody is on site most of the time.

One Dialog speaks one language, the knowledge file's: its example phrases, normaliser, answer
templates and recogniser phrase forms come from that language's unit (laundrybot/lang/).
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypedDict

from laundrybot import lang
from laundrybot.dialog.classify import TfidfClassifier
from laundrybot.dialog.hours import DAY_NAMES, Schedule
from laundrybot.dialog.intents import ESCALATIONS, INTENTS, KIND_AGNOSTIC, POLICIES, USES_MACHINE
from laundrybot.dialog.knowledge import Knowledge, MachineInfo, SizeInfo
from laundrybot.dialog.matching import THRESHOLD, IntentMatcher
from laundrybot.dialog.normalize import MachineRef, Normalized
from laundrybot.dialog.state import DialogueState, OpenReport
from laundrybot.dialog.wording import StaffNotice
from laundrybot.machines.state import MachineState, MachineStatus

EXPRESSIONS = ("neutral", "happy", "thinking", "apologetic", "concerned")
MAX_QUESTION_CHARS = 500  # longer input is cut: nobody asks a laundromat an essay
# Confidence of an answer chosen because the question named a machine number ("dryer 12?")
# rather than because its words matched: the number itself is strong evidence.
MACHINE_CONFIDENCE = 0.75

_DAY_WORDS = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_TIME_WORDS = frozenset({"long", "until", "till", "left", "done", "finish", "finished", "when"})
# Feature words that name what a question is about but not a topic: an utterance made only of
# these ("and the giant one?", "what about sunday", "3번이요") leans on the turn before.
_ENTITY_FEATURES = frozenset(
    [
        "wash",
        "dry",
        "washer",
        "dryer",
        "machine",
        "day",
        "one",
        "about",
        "what",
        "how",
        "that",
        "then",
        "it",
        "number",
        "no",
        "num",
        "big",
        "size",
        "ok",
        "yes",
        "yeah",
        "right",
        "mine",
        "think",
        "actually",
        "sorry",
        "oh",
        "now",
        "here",
    ]
)
# Intents whose answer is about a machine, a size or a kind, so a follow-up inherits it.
_OBJECT_INTENTS = ("prices", "cycle-times", "machine-status", "how-to-wash", "how-to-dry")
# Intents that are talk, not a topic: they leave the dialogue's topic as it was.
_NO_TOPIC = ("greeting", "thanks", "fallback", "clarify", "decline", "report-update")
# Below this a classifier's best guess is a coincidence; between it and THRESHOLD the answer is
# a clarifying question naming the two likeliest topics.
CLARIFY_FLOOR = 0.22
# A statement this close to a problem example is a problem even when no problem cue matched it
# ("dryer eleven stop in the middle"); asked ("is washer 4 broken?"), it is a status question.
STATED_PROBLEM = 0.5
# The classifier: "matcher" (word features, best example), "knn" (TF-IDF words + character
# n-grams, best example) or "centroid" (the same vectors, each intent's mean). Chosen by
# measurement on held-apart data (bench/understanding_classifiers.py: trained on one tuning
# set, scored on the other): the matcher, en 79.6% on tuning2 against kNN 74.6% (76.5% with
# tuning's utterances added), ko 84.3% against kNN 84.8% (82.6% with them), kNN losing ko
# tuning 2 points when trained on tuning2.
CLASSIFIER = "matcher"


@dataclass(frozen=True)
class StaffReport:
    """An escalation answer in parts: its staff sentence depends on what became of the
    message to the staff, which the gateway learns only after the dialogue answered."""

    kind: str  # "call-staff" | "money-taken" | "machine-broken"
    phone: str  # the staff phone the "recorded" sentence gives
    before: str  # e.g. the apology and what to note down
    after: str = ""  # e.g. when staff are next in the shop


_NEW_SESSION = DialogueState()  # the state a session starts in


@dataclass(frozen=True)
class Answer:
    text: str
    intent: str  # e.g. "prices", "machine-status", "money-taken", "faq:wifi", "fallback"
    source: str  # "knowledge" | "machines" | "fallback"
    expression: str  # one of EXPRESSIONS
    escalation: str | None  # None | "call-staff" | "money-taken" | "machine-broken"
    machine: int | None = None  # the machine the question was about, if any
    # How sure the matcher is, 0..1: the similarity to the closest example phrase (1.0 for an
    # exact one), at least MACHINE_CONFIDENCE for a machine-status question naming a machine
    # number ("dryer 12?"), and below the matcher's threshold for a fallback (0 for no words).
    # The voice path uses it to pick between two transcripts of one utterance (grammar and
    # free recognition).
    confidence: float = 1.0
    # For an escalation: its parts, for Dialog.told once the notify outcome is known.
    report: StaffReport | None = None
    # The dialogue state after this answer: pass it back in with the session's next question.
    state: DialogueState = _NEW_SESSION
    # A machine number this turn added to the session's open report ("its number 3" after
    # "the washer took my money"): the gateway adds it to the report it filed. No new report.
    report_update: int | None = None


class _Context(TypedDict):
    """What every step of understanding one piece of an utterance is given."""

    st: DialogueState
    local: datetime.datetime
    machines: Mapping[int, MachineStatus]
    low: str  # the piece as the cues read it


@dataclass(frozen=True, slots=True)
class _Turn:
    """What one question is about, handed to the intent's handler."""

    intent: str
    norm: Normalized
    machine: MachineInfo | None  # a real machine named in the question
    number: int | None  # the number said, even if no such machine exists
    statuses: Mapping[int, MachineStatus]
    now: datetime.datetime  # in the shop's time zone
    confidence: float = 1.0

    @property
    def kind(self) -> str | None:
        """The one machine kind the question is about, if it names exactly one."""
        if self.machine is not None:
            return self.machine.kind
        if self.norm.machine is not None and self.norm.machine.kind is not None:
            return self.norm.machine.kind
        return next(iter(self.norm.kinds)) if len(self.norm.kinds) == 1 else None


class Dialog:
    def __init__(self, knowledge: Knowledge, classifier: str = CLASSIFIER) -> None:
        self.knowledge = knowledge
        self.language = lang.get(knowledge.language)
        self.say = self.language.wording
        self.tz = zoneinfo.ZoneInfo(knowledge.timezone)
        self.by_number = {m.number: m for m in knowledge.machines}
        self.rule_text = {f"rule:{r.id}": r.text for r in knowledge.rules}
        self.faq_text = {f"faq:{f.id}": f.answer for f in knowledge.faq}

        examples: list[tuple[str, str]] = []
        for intent, phrases in self.language.examples.items():
            for phrase in phrases:
                examples.append((intent, phrase))
                if intent in KIND_AGNOSTIC and self._mirror(phrase) != phrase:
                    examples.append((intent, self._mirror(phrase)))
        for rule in knowledge.rules:
            examples += [(f"rule:{rule.id}", q) for q in rule.questions]
        for entry in knowledge.faq:
            examples += [(f"faq:{entry.id}", q) for q in entry.questions]

        size_names = [s.name for s in knowledge.washers + knowledge.dryers]
        self.normalize = self.language.normalizer([p for _, p in examples] + size_names)
        featured = [(intent, self.normalize(phrase).features) for intent, phrase in examples]
        self.matcher = IntentMatcher(featured)
        self.classifier = classifier
        self.tfidf = TfidfClassifier(featured, centroid=classifier == "centroid")
        self.cues = self.language.cues
        self.known_intents = frozenset(INTENTS) | set(self.faq_text) | set(self.rule_text)
        self.sizes_by_word: dict[str, list[SizeInfo]] = {}
        for size in knowledge.washers + knowledge.dryers:
            self.sizes_by_word.setdefault(size.name, []).append(size)
        self._phrases = self._recognition_phrases(examples)

        self.handlers: dict[str, Callable[[_Turn], Answer]] = {
            "greeting": self._greeting,
            "thanks": self._thanks,
            "prices": self._prices,
            "cycle-times": self._cycle_times,
            "hours": self._hours,
            "staff-contact": self._staff_contact,
            "address": self._address,
            "payment": self._payment,
            "payment-problem": self._payment_problem,
            "how-to-wash": lambda t: self._steps(t, knowledge.howto.wash),
            "how-to-dry": lambda t: self._steps(t, knowledge.howto.dry),
            "detergent": lambda t: self._steps(t, knowledge.howto.detergent),
            "lost-and-found": self._lost_and_found,
            "rules": self._rules,
            "machine-status": self._machine_status,
            "free-machines": self._free_machines,
            "call-staff": self._call_staff,
            "money-taken": self._money_taken,
            "machine-broken": self._machine_broken,
            "fallback": self._fallback,
            "refunds": self._refunds,
            "problem-help": self._problem_help,
        }

    @property
    def quick_questions(self) -> tuple[str, ...]:
        return self.knowledge.quick_questions

    @property
    def phrases(self) -> tuple[str, ...]:
        """Phrases to bias speech recognition with, written the way the recogniser writes words
        (lowercase, no punctuation, numbers as words, Korean in the model's own pieces): the
        example phrases, FAQ and rule questions, quick questions and "washer seven"-style
        machine phrases. Example phrases with a machine number appear once per machine.
        """
        return self._phrases

    def answer(
        self,
        question: str,
        machines: Mapping[int, MachineStatus],
        now: datetime.datetime,
        state: DialogueState | None = None,
    ) -> Answer:
        """The answer to ``question``, given the dialogue ``state`` of the session's turns
        before (None: a new session). The Answer carries the new state (``answer.state``) and,
        when this turn named the machine of the open report, ``report_update``.

        An utterance holding two or three requests ("is machine 5 free and how much is it")
        gets each answered, in order, in one reply.
        """
        state = state or DialogueState()
        local = now.astimezone(self.tz)
        answers = []
        for piece in self._pieces(question[:MAX_QUESTION_CHARS]):
            one = self._answer_one(piece, machines, local, state)
            state = one.state
            answers.append(one)
        if len(answers) == 1:
            return answers[0]
        first = answers[0]
        escalated = next((a for a in answers if a.escalation), None)
        lead = escalated or first
        report = None
        if escalated is not None and escalated.report is not None:
            at = answers.index(escalated)
            before = "".join(a.text.strip() + " " for a in answers[:at])
            after = "".join(" " + a.text.strip() for a in answers[at + 1 :])
            report = dataclasses.replace(
                escalated.report,
                before=before + escalated.report.before,
                after=escalated.report.after.rstrip() + after,
            )
        return Answer(
            text=" ".join(a.text.strip() for a in answers),
            report=report,
            intent=first.intent,
            source=first.source,
            expression=lead.expression,
            escalation=lead.escalation,
            machine=lead.machine,
            confidence=min(a.confidence for a in answers),
            state=state,
            report_update=next((a.report_update for a in answers if a.report_update), None),
        )

    # --- understanding ---------------------------------------------------------------------

    def _rank(self, norm: Normalized) -> list[tuple[str, float]]:
        if self.classifier == "matcher":
            return self.matcher.scores(norm.features)
        return self.tfidf.scores(norm.features)

    def _stands(self, piece: str) -> bool:
        """Whether a piece of an utterance is a request of its own (so the cut before it holds)."""
        norm = self.normalize(piece)
        if not norm.features and not (norm.machine and norm.machine.number is not None):
            return False
        ranked = self._rank(norm)
        low = self.cues.text(_plain(piece))
        if ranked and ranked[0][1] >= THRESHOLD and ranked[0][0] not in ("greeting", "thanks"):
            return True
        cues = self.cues
        return bool(
            (norm.machine and norm.machine.number is not None)
            or cues.problem.search(low)
            or any(p.search(low) for p, _ in cues.items)
        )

    def _pieces(self, text: str) -> list[str]:
        raw = self.cues.split(text)
        if len(raw) <= 1:
            return [text]
        problem, plain = self.cues.problem, lambda t: self.cues.text(_plain(t))
        if problem.search(plain(text)) and not any(self._asks(plain(p)) for p in raw[1:]):
            # A problem told in pieces ("dryer 11 ate my quarters, nothing happened") is one
            # complaint; it is cut only where a question of its own follows ("..., is 6 free?").
            return [text]
        pieces: list[str] = []
        for piece in raw:
            if pieces and (not self._stands(piece) or len(pieces) >= 3):
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        if len(pieces) > 1 and not self._stands(pieces[0]):
            pieces[:2] = [f"{pieces[0]} {pieces[1]}"]
        return pieces if len(pieces) > 1 else [text]

    def _asks(self, low: str) -> bool:
        """Whether a piece is put as a question (not a statement of what happened)."""
        cues = self.cues
        return bool(cues.yes_no.search(low) or cues.when.search(low) or cues.asks.search(low))

    def _referential(self, norm: Normalized) -> bool:
        """Nothing but a machine reference ("its number 3", "dryer 14", "4번이요")."""
        return all(f in _ENTITY_FEATURES or "_" in f or f.isdigit() for f in norm.features)

    def _topicless(self, norm: Normalized) -> bool:
        sizes = self.sizes_by_word
        return all(
            f in _ENTITY_FEATURES or f in sizes or f in _DAY_WORDS or "_" in f or f.isdigit()
            for f in norm.features
        )

    def _answer_one(
        self,
        piece: str,
        machines: Mapping[int, MachineStatus],
        local: datetime.datetime,
        st: DialogueState,
    ) -> Answer:
        cues = self.cues
        norm = self.normalize(piece)
        low = cues.text(_plain(piece))
        ranked = self._rank(norm)
        best, score = ranked[0] if ranked else ("fallback", 0.0)
        number = norm.machine.number if norm.machine else None
        bare = cues.bare_number(norm.words) if number is None else None
        said = number if number is not None else bare
        follow = bool(cues.follow_up.search(low))
        problem = bool(cues.problem.search(low))
        cont = _Context(st=st, local=local, machines=machines, low=low)

        # A short reply to what the last answer asked or offered. A machine number after "which
        # machine is it?" names the machine of the problem ("uh, the one at the back, number
        # 8"), unless the utterance plainly asks something else ("how much is 8?").
        names_machine = said is not None and (
            self._referential(norm) or not self._asks_other(ranked, low)
        )
        if st.pending == "report-machine" and said is not None and names_machine:
            return self._file(norm, said, st.pending_kind or "machine-broken", 0.8, **cont)
        # A new problem ("washer 5 is broken" after "call staff") is its own report below.
        if (
            st.report is not None
            and st.report.machine is None
            and said is not None
            and names_machine
            and (not problem or self._referential(norm))
        ):
            return self._report_update(norm, said, **cont)
        if st.pending == "steps" and cues.accept.match(low):
            steps = self._howto(st.pending_kind or "")
            return self._respond(
                st.pending_kind or "how-to-wash",
                norm,
                None,
                **cont,
                text=" ".join(steps[2:]) or " ".join(steps),
                score=1.0,
            )
        if st.pending == "machine" and said is not None and self._referential(norm):
            return self._respond("machine-status", norm, said, **cont, score=0.8)

        # Requests the shop does not serve: never a report, a plain "I can't do that".
        if cues.out_of_scope.search(low) and not problem:
            return self._decline(norm, "cant_do", **cont)

        # Items one word of which would mislead the classifier ("dryer sheets").
        for pattern, intent in cues.items:
            if intent in self.known_intents and pattern.search(low) and not problem:
                best, score = intent, max(score, 0.6)
                break

        # A follow-up without a topic of its own takes the last one ("and drying?").
        topicless = self._topicless(norm)
        if (
            st.intent
            and (score < THRESHOLD or (follow and topicless))
            and (topicless or follow or said is not None)
        ):
            best, score = self._carried(st.intent, norm), max(score, 0.5)

        # Numbers: a machine number makes a generic question one about that machine, and a
        # bare number names a machine when the talk is about machines ("is 6 free").
        if number is None and bare is not None:
            machine_talk = best in USES_MACHINE or st.machine is not None or follow
            if (
                machine_talk
                or _TIME_WORDS.intersection(norm.words)
                or cues.asks_busy.search(low)
                or cues.asks_working.search(low)
                or "free" in low
            ):
                number = bare
        if number is not None and best in (
            "fallback", "free-machines", "greeting", "thanks", "how-to-wash", "how-to-dry",
            "staff-contact",
        ):  # fmt: skip
            best = "machine-status"
        if number is not None and best == "machine-status":
            score = max(score, MACHINE_CONFIDENCE)
        if (
            number is not None
            and best == "cycle-times"
            and {"left", "until", "done"} & set(norm.words)
        ):
            best = "machine-status"

        # Reports only for real problems; a vague one asks which machine first.
        hypothetical = bool(cues.hypothetical.search(low))
        person = bool(cues.person.search(low))
        vague = bool(cues.vague_problem.search(low))
        if best in POLICIES.values() and not (problem and not hypothetical and not self._asks(low)):
            pass  # how the shop handles a problem: the policy
        elif hypothetical and (best in ESCALATIONS or score < THRESHOLD or problem):
            # A problem that has not happened: what to do about it, never a report.
            policy = next((POLICIES[i] for i, _ in ranked if i in POLICIES), "problem-help")
            best, score = policy, max(score, THRESHOLD)
        elif vague and not problem and not hypothetical:
            if number is not None or cues.urgent.search(low):
                return self._file(norm, number, "machine-broken", 0.7, **cont)
            return self._ask_machine(norm, "machine-broken", **cont)
        elif (
            best in ESCALATIONS
            and best != "call-staff"
            and score >= STATED_PROBLEM
            and not self._asks(low)
        ):
            pass  # told like a problem the examples know, and not asked: a problem
        elif best in ESCALATIONS and not (problem or (best == "call-staff" and person)):
            others = [(i, sc) for i, sc in ranked if i not in ESCALATIONS]
            if number is not None:
                best, score = "machine-status", max(score, MACHINE_CONFIDENCE)
            elif others and others[0][1] >= THRESHOLD:
                best, score = others[0]
            else:
                best, score = "fallback", 0.0
        elif (problem or person) and best not in ESCALATIONS and best != "payment-problem":
            escalations = [i for i, _ in ranked if i in ESCALATIONS]
            best = escalations[0] if escalations else ("call-staff" if person else "machine-broken")
            score = max(score, THRESHOLD)

        if best != "fallback" and score < THRESHOLD and best not in ESCALATIONS:
            best = "fallback"
        if best == "fallback":
            return self._unsure(norm, ranked, **cont)
        if best in ESCALATIONS:
            if number is None and best != "call-staff":
                number = self._machine_in_talk(norm, st)
            urgent = bool(cues.urgent.search(low)) or person
            if number is None and best != "call-staff" and not urgent:
                return self._ask_machine(norm, best, **cont)
            if (
                st.report is not None
                and st.report.kind == best
                and st.report.machine is None
                and number is not None
            ):
                return self._report_update(norm, number, **cont)  # the same problem, now placed
            return self._file(norm, number, best, score, **cont)
        return self._respond(best, norm, number, **cont, score=score)

    def _asks_other(self, ranked: list[tuple[str, float]], low: str) -> bool:
        """Whether an utterance holding a number asks about a topic of its own."""
        top = next(((i, sc) for i, sc in ranked if i not in ESCALATIONS), None)
        asks = self.cues.yes_no.search(low) or self.cues.when.search(low) or "?" in low
        return bool(asks and top is not None and top[1] >= THRESHOLD)

    def _machine_in_talk(self, norm: Normalized, st: DialogueState) -> int | None:
        """The machine the talk was about, for a problem that names none ("it took my
        quarters" right after "how much is dryer 15"), if the problem names no other kind."""
        if st.machine is None:
            return None
        kinds = set(norm.kinds) | ({norm.machine.kind} if norm.machine else set())
        kinds.discard(None)
        machine = self.by_number.get(st.machine)
        if machine is None or (kinds and machine.kind not in kinds):
            return None
        return st.machine

    def _ask_machine(
        self,
        norm: Normalized,
        kind: str,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        """A problem without its machine: ask which one before filing (the number is what
        staff need), and file when the next turn names it."""
        text = self.say("ask_problem_machine")
        state = self._next_state(st, kind, norm, None, local, pending=("report-machine", kind))
        return self._made(text, "clarify", None, state, "concerned", 0.7, source="knowledge")

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
        if intent in _OBJECT_INTENTS and number is None and not sized:
            if st.machine is not None and (not kinds or st.kind in kinds):
                number = st.machine if intent in USES_MACHINE else None
                if st.kind and not kinds:
                    kinds.add(st.kind)
            elif not kinds or st.kind in kinds:
                if st.size:
                    words.append(st.size)
                if st.kind and not kinds:
                    kinds.add(st.kind)
        elif intent in _OBJECT_INTENTS and sized and not kinds and st.kind:
            sizes = {s.kind for w in words for s in self.sizes_by_word.get(w, [])}
            if st.kind in sizes:
                kinds.add(st.kind)
        days = [w for w in words if w in _DAY_WORDS or w == "tomorrow"]
        leans = self.cues.follow_up.search(low) or self._topicless(norm) or len(words) <= 4
        if intent in ("hours", "staff-contact") and not days and st.day is not None and leans:
            words.append(DAY_NAMES[st.day].lower())
        if number is not None:
            kind = norm.machine.kind if norm.machine else None
            machine = MachineRef(kind, number)
        elif len(kinds) == 1 and (machine is None or machine.kind is None):
            machine = MachineRef(next(iter(kinds)), None)
        return Normalized(tuple(words), norm.features, machine, frozenset(kinds)), number

    def _respond(
        self,
        intent: str,
        norm: Normalized,
        number: int | None,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
        score: float = 1.0,
        text: str | None = None,
    ) -> Answer:
        norm, number = self._inherit(intent, norm, number, st, low)
        if number is not None and intent not in USES_MACHINE:
            number = None
        if (
            intent == "machine-status"
            and number is None
            and st.machine is not None
            and (self.cues.follow_up.search(low) or "it" in low.split())
        ):
            number = st.machine
        turn = _Turn(
            intent=intent,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=local,
            confidence=round(min(score, 1.0), 3),
        )
        if text is not None:
            answer = self._reply(turn, text)
        elif intent in self.faq_text:
            answer = self._reply(turn, self.faq_text[intent])
        elif intent in self.rule_text:
            answer = self._reply(turn, self.rule_text[intent])
        else:
            answer = self.handlers[intent](turn)
        spoken = self._shaped(answer, turn, low)
        pending: tuple[str, str] | None = None
        if intent in ("how-to-wash", "how-to-dry", "detergent") and text is None:
            if len(self._howto(intent)) > 2:
                pending = ("steps", intent)
        elif answer.text == self.say.finish(self.say("which_machine")):
            pending = ("machine", "machine-status")
        state = self._next_state(st, answer.intent, norm, turn.machine, local, pending=pending)
        return dataclasses.replace(answer, text=spoken, state=state)

    def _howto(self, intent: str) -> tuple[str, ...]:
        howto = self.knowledge.howto
        return {"how-to-wash": howto.wash, "how-to-dry": howto.dry}.get(intent, ())

    def _shaped(self, answer: Answer, turn: _Turn, low: str) -> str:
        """Fit the answer to speech: a yes/no question starts with its answer."""
        text = answer.text.strip()
        cues = self.cues
        if not cues.yes_no.search(low) or cues.when.search(low):
            return text
        yes = self._polarity(answer, turn, low)
        if yes is None:
            return text
        head = text.lower()
        marks = (cues.yes.lower().strip(" ,"), cues.no.lower().strip(" ,"), "sorry", "죄송")
        if head.startswith(marks):
            return text
        lead = cues.yes if yes else cues.no
        if self.language.code == "en" and not text[:2].isupper() and not text.startswith("I "):
            text = text[:1].lower() + text[1:]
        return lead + text

    def _polarity(self, answer: Answer, turn: _Turn, low: str) -> bool | None:
        cues = self.cues
        intent = answer.intent
        if intent == "machine-status" and turn.machine is not None:
            status = turn.statuses.get(turn.machine.number)
            said = turn.norm.machine.kind if turn.norm.machine else None
            if status is None or status.state is MachineState.UNKNOWN:
                return None  # nothing known: no yes and no no
            if said is not None and said != turn.machine.kind:
                return None
            if status.state is MachineState.UNKNOWN:  # a silent sensor: neither yes nor no
                return None
            if cues.asks_busy.search(low):
                return status.state is MachineState.BUSY
            if cues.asks_working.search(low):
                return status.state is not MachineState.OUT_OF_ORDER
            return status.state is MachineState.FREE
        if intent == "free-machines":
            return answer.expression == "happy"
        if intent == "hours":
            shop = self.knowledge.shop_hours
            day = next((_DAY_WORDS[w] for w in turn.norm.words if w in _DAY_WORDS), None)
            if "tomorrow" in turn.norm.words:
                day = (turn.now.weekday() + 1) % 7
            if day is not None:
                return shop.always or shop.days[day] is not None
            return shop.always or shop.is_open(turn.now)
        if intent == "staff-contact" and cues.asks_staff.search(low):
            if any(w in _DAY_WORDS or w == "tomorrow" for w in turn.norm.words):
                return None
            return self.knowledge.staff_hours.is_open(turn.now)
        if intent in ("payment", "detergent"):
            return True
        if intent.startswith("rule:"):
            return False
        return None

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
    ) -> DialogueState:
        topic = st.intent if intent in _NO_TOPIC else intent
        size = next((w for w in norm.words if w in self.sizes_by_word), None)
        kind = (
            machine.kind if machine else (next(iter(norm.kinds)) if len(norm.kinds) == 1 else None)
        )
        if kind is None and norm.machine is not None:
            kind = norm.machine.kind
        day = next((_DAY_WORDS[w] for w in norm.words if w in _DAY_WORDS), None)
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
            else (st.day if intent in ("hours", "staff-contact") else None),
            report=report or st.report,
            pending=pending[0] if pending else None,
            pending_kind=pending[1] if pending else None,
            turns=st.turns + 1,
        )

    def _made(
        self,
        text: str,
        intent: str,
        machine: int | None,
        state: DialogueState,
        expression: str,
        confidence: float,
        *,
        source: str = "knowledge",
        escalation: str | None = None,
        report_update: int | None = None,
    ) -> Answer:
        return Answer(
            text=self.say.finish(text).strip(),
            intent=intent,
            source=source,
            expression=expression,
            escalation=escalation,
            machine=machine,
            confidence=round(min(confidence, 1.0), 3),
            state=state,
            report_update=report_update,
        )

    def _file(
        self,
        norm: Normalized,
        number: int | None,
        kind: str,
        score: float,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        """File a staff report (an escalation answer); a second one about the same thing in
        the session is not filed again, the machine is added to the open one instead."""
        if number is not None and number not in self.by_number:
            number = None
        if norm.machine is None or norm.machine.number != number:
            kind_said = norm.machine.kind if norm.machine else None
            norm = dataclasses.replace(norm, machine=MachineRef(kind_said, number))
        turn = _Turn(
            intent=kind,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=local,
            confidence=round(min(max(score, THRESHOLD), 1.0), 3),
        )
        answer = self.handlers[kind](turn)
        report = OpenReport(kind, number)
        state = self._next_state(st, kind, norm, turn.machine, local, report=report)
        return dataclasses.replace(answer, text=answer.text.strip(), state=state)

    def _report_update(
        self,
        norm: Normalized,
        number: int,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        machine = self.by_number.get(number)
        assert st.report is not None
        if machine is None:
            text = self.say("report_no_machine", number=number)
            return self._made(text, "report-update", None, st, "thinking", 0.8)
        text = self.say("report_machine", name=self._name(machine))
        report = OpenReport(st.report.kind, number)
        state = dataclasses.replace(
            self._next_state(st, "report-update", norm, machine, local), report=report
        )
        return self._made(
            text, "report-update", number, state, "concerned", 0.8, report_update=number
        )

    def _decline(
        self,
        norm: Normalized,
        key: str,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        text = f"{self.say(key)} {self.say('can_help')}"
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

    # --- helpers ---------------------------------------------------------------------------

    def _mirror(self, phrase: str) -> str:
        """The same phrase about the other kind of machine ("washer 7 ate" -> "dryer 7 ate")."""
        return " ".join(self.language.mirror.get(word, word) for word in phrase.split())

    def _recognition_phrases(self, examples: list[tuple[str, str]]) -> tuple[str, ...]:
        k = self.knowledge
        texts = [phrase for _, phrase in examples] + list(k.quick_questions)
        pieces = getattr(self.normalize, "surfaces", None)  # Korean: the model's word pieces
        out: list[str] = []
        for text in texts:
            norm = self.normalize(text)
            words = " ".join(pieces(text)) if pieces else text
            if norm.machine is None or norm.machine.number is None:
                out.append(self.language.recognised(words))
                continue
            # "is washer 7 free" -> once per washer, with the number as a recogniser says it.
            said = str(norm.machine.number)
            for m in k.machines:
                if norm.machine.kind in (None, m.kind):
                    numbered = re.sub(rf"\b{said}\b", str(m.number), words)
                    out.append(self.language.recognised(numbered))
        for m in k.machines:
            out += self.language.machine_phrases(m.kind, m.number)
        return tuple(dict.fromkeys(p for p in out if p))

    def _reply(
        self,
        turn: _Turn,
        text: str,
        *,
        source: str = "knowledge",
        expression: str = "neutral",
        intent: str | None = None,
        report: StaffReport | None = None,
    ) -> Answer:
        intent = intent or turn.intent
        return Answer(
            text=self.say.finish(text),
            intent=intent,
            source=source,
            expression=expression,
            escalation=intent if intent in ESCALATIONS else None,
            machine=turn.machine.number if turn.machine else None,
            confidence=turn.confidence,
            report=report,
        )

    def told(self, answer: Answer, notice: StaffNotice, minutes: int) -> str:
        """``answer`` as said once the staff message's fate is known (others unchanged).

        ``minutes``: how soon staff usually answer (notify.answer_minutes; 0: not said).
        """
        report = answer.report
        if report is None:
            return answer.text
        staff = self.say.staff_told(report.kind, report.phone, notice, minutes)
        return report.before + staff + report.after

    def _name(self, machine: MachineInfo) -> str:
        return self.say.machine(machine.kind, machine.number)

    def _kind(self, kind: str) -> str:
        return self.say.kinds[kind]

    def _where(self, machine: MachineInfo) -> str:
        return self.say("where", location=machine.location) if machine.location else ""

    def _minutes_left(self, status: MachineStatus, turn: _Turn) -> int | None:
        if status.until is None:
            return None
        return math.ceil((status.until - turn.now.timestamp()) / 60)

    def _alternative(self, turn: _Turn, machine: MachineInfo) -> str:
        """Point to another free machine of the same kind (same size preferred)."""
        others = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind and m.number != machine.number
        ]
        pick = self._free_alternative(turn, machine)
        if pick is not None:
            same = self.say("alt_same") if pick.size == machine.size else ""
            name = _cap(self._name(pick))
            return self.say("alt_free", name=name, same=same, where=self._where(pick))
        soonest = self._soonest(turn, others)
        kind = self._kind(machine.kind)
        if soonest:
            kinds = self.say.plural(kind, 2)
            return self.say("alt_none_free", kinds=kinds, soonest=soonest)
        return self.say("alt_unknown", kind=kind)

    def _free_alternative(self, turn: _Turn, machine: MachineInfo) -> MachineInfo | None:
        """A free machine of the same kind, the same size if possible, lowest number first."""
        free = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind
            and m.number != machine.number
            and _state(turn, m) is MachineState.FREE
        ]
        return min(free, key=lambda m: (m.size != machine.size, m.number), default=None)

    def _soonest(self, turn: _Turn, machines: list[MachineInfo]) -> str | None:
        """ "dryer 12 should be done in about 3 minutes" for the busy machine ending first."""
        best: tuple[int, MachineInfo] | None = None
        for m in machines:
            status = turn.statuses.get(m.number)
            if status is None or status.state is not MachineState.BUSY:
                continue
            left = self._minutes_left(status, turn)
            if left is not None and (best is None or left < best[0]):
                best = (left, m)
        if best is None:
            return None
        left, m = best
        if left <= 0:
            return self.say("soonest_now", name=self._name(m))
        return self.say("soonest", name=self._name(m), minutes=self.say.minutes(left))

    def _staff_now(self, turn: _Turn) -> str:
        """Whether staff are in the shop now, or when they are next in."""
        staff = self.knowledge.staff_hours
        if staff.always:
            return self.say("staff_always")
        closes = staff.closes_at(turn.now)
        if closes is not None:
            return self.say("staff_until", time=self.say.time(closes))
        nxt = staff.next_opening(turn.now)
        if nxt is None:
            return self.say("staff_none")
        days, minute = nxt
        weekday = (turn.now.weekday() + days) % 7
        day = self.say.day(days, weekday)
        return self.say("staff_next", time=self.say.time(minute), day=day)

    def _urgent(self) -> str:
        return self.say("urgent", phone=self.knowledge.staff_phone)

    # --- knowledge answers ------------------------------------------------------------------

    def _greeting(self, turn: _Turn) -> Answer:
        text = self.say("greeting", shop=self.knowledge.shop_name)
        return self._reply(turn, text, expression="happy")

    def _thanks(self, turn: _Turn) -> Answer:
        return self._reply(turn, self.say("thanks"), expression="happy")

    def _sizes_asked(self, turn: _Turn) -> list[SizeInfo]:
        """The sizes a price or time question is about: a machine's, a named size, or a kind."""
        if turn.machine is not None:
            return [self.knowledge.size_info(turn.machine.kind, turn.machine.size)]
        named = [s for w in turn.norm.words for s in self.sizes_by_word.get(w, [])]
        kind = turn.kind
        if kind is None and {"load", "loads"} & set(turn.norm.words):
            kind = "washer"  # a load is washed
        if kind is not None:
            named = [s for s in named if s.kind == kind]
        if named:
            return list(dict.fromkeys(named))
        if kind is not None:
            return list(self.knowledge.sizes(kind))
        return []

    def _prices(self, turn: _Turn) -> Answer:
        sizes = self._sizes_asked(turn)
        k, say = self.knowledge, self.say
        if turn.machine is not None:
            size = sizes[0]
            text = say(
                "price_machine",
                name=_cap(self._name(turn.machine)),
                description=size.description,
                per=say("per_wash" if size.kind == "washer" else "per_dry"),
                money=say.money(size.price),
                minutes=size.minutes,
            )
        elif sizes:
            text = self._price_sentence(sizes)
        else:
            text = say(
                "prices_all",
                wash=say.range(s.price for s in k.washers),
                dry=say.range(s.price for s in k.dryers),
                dry_minutes=say.span(s.minutes for s in k.dryers),
            )
        return self._reply(turn, text)

    def _price_sentence(self, sizes: list[SizeInfo]) -> str:
        say = self.say
        washers = [s for s in sizes if s.kind == "washer"]
        dryers = [s for s in sizes if s.kind == "dryer"]
        parts = []
        if washers:
            items = say.join_and(
                say("price_wash_item", money=say.money(s.price), size=s.name) for s in washers
            )
            if len(washers) == 1:
                parts.append(say("price_wash_one", items=items, minutes=washers[0].minutes))
            else:
                parts.append(say("price_wash", items=items))
        if dryers:
            items = say.join_and(
                say("price_dry_item", money=say.money(s.price), minutes=s.minutes, size=s.name)
                for s in dryers
            )
            parts.append(say("price_dry", items=items))
        return " ".join(parts)

    def _cycle_times(self, turn: _Turn) -> Answer:
        say = self.say
        sizes = self._sizes_asked(turn) or list(self.knowledge.washers + self.knowledge.dryers)
        parts = []
        washers = [s for s in sizes if s.kind == "washer"]
        dryers = [s for s in sizes if s.kind == "dryer"]
        if washers:
            items = say.join_and(
                say("cycle_wash_item", minutes=s.minutes, size=s.name) for s in washers
            )
            parts.append(say("cycle_wash", items=items))
        if dryers:
            parts.append(
                say(
                    "cycle_dry",
                    minutes=say.span(s.minutes for s in dryers),
                    price=say.range(s.price for s in dryers),
                )
            )
        return self._reply(turn, " ".join(parts))

    def _hours(self, turn: _Turn) -> Answer:
        k = self.knowledge
        shop = k.shop_hours
        asked_day = next((_DAY_WORDS[w] for w in turn.norm.words if w in _DAY_WORDS), None)
        if "tomorrow" in turn.norm.words:
            asked_day = (turn.now.weekday() + 1) % 7
        if self.cues.asks_staff.search(" ".join(turn.norm.words)) or "staff" in turn.norm.words:
            return self._staff_contact(turn)
        if shop.always and asked_day is not None:
            first = self.say("hours_day_always", day=self.say.day_names[asked_day])
        elif shop.always:
            first = self.say("hours_always")
        elif asked_day is not None:
            first = self._day_hours(shop, asked_day)
        else:
            first = self._open_now(shop, turn.now)
        parts = [first]
        if k.hours_note and {"late", "last", "midnight", "night"} & set(turn.norm.words):
            parts.append(k.hours_note)
        return self._reply(turn, " ".join(parts), expression="happy")

    def _day_hours(self, schedule: Schedule, weekday: int) -> str:
        day = self.say.day_names[weekday]
        interval = schedule.days[weekday]
        if interval is None:
            return self.say("hours_day_closed", day=day)
        start, end = self.say.time(interval.start), self.say.time(interval.end)
        return self.say("hours_day_open", day=day, start=start, end=end)

    def _open_now(self, schedule: Schedule, local: datetime.datetime) -> str:
        closes = schedule.closes_at(local)
        if closes is not None:
            return self.say("open_until", time=self.say.time(closes))
        nxt = schedule.next_opening(local)
        if nxt is None:
            return self.say("closed")
        days, minute = nxt
        day = self.say.day(days, (local.weekday() + days) % 7)
        return self.say("closed_next", time=self.say.time(minute), day=day)

    def _staff_contact(self, turn: _Turn) -> Answer:
        k = self.knowledge
        asked_day = next((_DAY_WORDS[w] for w in turn.norm.words if w in _DAY_WORDS), None)
        if "tomorrow" in turn.norm.words:
            asked_day = (turn.now.weekday() + 1) % 7
        if asked_day is not None and not k.staff_hours.always:
            interval = k.staff_hours.days[asked_day]
            day = self.say.day_names[asked_day]
            if interval is None:
                first = self.say("staff_day_none", day=day)
            else:
                start, end = self.say.time(interval.start), self.say.time(interval.end)
                first = self.say("staff_day", day=day, start=start, end=end)
        else:
            first = self._staff_now(turn)
        parts = [first, self.say("staff_contact", phone=k.staff_phone)]
        return self._reply(turn, " ".join(parts), intent="staff-contact")

    def _address(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if k.address:
            text = self.say("address", shop=k.shop_name, address=k.address)
        else:
            text = self.say("no_address", shop=k.shop_name, phone=k.staff_phone)
        return self._reply(turn, text)

    def _payment(self, turn: _Turn) -> Answer:
        k = self.knowledge
        if "how" in turn.norm.words and not any(
            w in turn.norm.words for w in ("top", "load", "change", "coin", "coins", "quarters")
        ):
            text = " ".join(k.howto.payment)
        else:
            text = self.say("payment", methods=self.say.join_or(k.payment_methods))
            details = self._asked_about(k.payment_details or "", turn.norm)
            if details:
                text += " " + details
        return self._reply(turn, text)

    def _refunds(self, turn: _Turn) -> Answer:
        k = self.knowledge
        text = self.say("refunds", note=k.money_taken_note, refund=k.refund)
        return self._reply(turn, text)

    def _problem_help(self, turn: _Turn) -> Answer:
        k = self.knowledge
        text = self.say("problem_help", broken=k.machine_broken, urgent=self._urgent())
        if k.staff_phone_note and ({"night", "late", "weekend"} & set(turn.norm.words)):
            text += " " + k.staff_phone_note
        return self._reply(turn, text)

    def _asked_about(self, text: str, norm: Normalized, first: bool = False) -> str:
        """The sentences of an owner's text that share a content word with the question
        (details on request: "where do I get change" hears about the change machine); with
        ``first``, the first sentence when none does."""
        sentences = [x for x in re.split(r"(?<=[.!?])\s+", text.strip()) if x]
        asked = set(norm.features) - _ENTITY_FEATURES
        picked = [x for x in sentences if asked & set(self.normalize(x).features)]
        if not picked and first and sentences:
            picked = sentences[:1]
        return " ".join(picked)

    def _payment_problem(self, turn: _Turn) -> Answer:
        problems = self._asked_about(self.knowledge.payment_problems, turn.norm, first=True)
        text = f"{problems} {self._urgent()}"
        return self._reply(turn, text, expression="apologetic")

    def _steps(self, turn: _Turn, steps: tuple[str, ...]) -> Answer:
        """The first two steps, and the rest on request ("want the steps?" - "yes")."""
        if len(steps) > 2 and turn.intent in ("how-to-wash", "how-to-dry"):
            return self._reply(turn, " ".join([*steps[:2], self.say("more_steps")]))
        return self._reply(turn, " ".join(steps))

    def _lost_and_found(self, turn: _Turn) -> Answer:
        k = self.knowledge
        text = self.say("lost", text=k.lost_and_found, phone=k.staff_phone)
        return self._reply(turn, text)

    def _rules(self, turn: _Turn) -> Answer:
        rules = self.knowledge.rules
        if not rules:
            text = self.say("no_rules", phone=self.knowledge.staff_phone)
            return self._reply(turn, text)
        return self._reply(turn, " ".join(r.text for r in rules))

    # --- machine answers --------------------------------------------------------------------

    def _machine_status(self, turn: _Turn) -> Answer:
        say = self.say
        if turn.number is None:
            if _TIME_WORDS.intersection(turn.norm.words):
                return self._reply(turn, say("which_machine"), expression="thinking")
            return self._free_machines(turn)
        machine = turn.machine
        if machine is None:
            return self._no_such_machine(turn, turn.number)
        said = turn.norm.machine.kind if turn.norm.machine else None
        prefix = ""
        if said is not None and said != machine.kind:
            # Often a mis-heard number ("dryer two"); say what number N is, then how to ask.
            prefix = say(
                "wrong_kind",
                number=machine.number,
                kind=self._kind(machine.kind),
                said=self._kind(said),
                saids=say.plural(self._kind(said), 2),
                ranges=say.number_ranges(self._numbers(said)),
            )
        name = _cap(self._name(machine))
        status = turn.statuses.get(machine.number)
        if status is None or status.state is MachineState.UNKNOWN:  # a silent sensor
            text = say("no_status", name=self._name(machine))
            return self._reply(turn, prefix + text, source="machines", expression="thinking")
        if status.state is MachineState.FREE:
            text = say("is_free", name=name, where=self._where(machine))
            return self._reply(turn, prefix + text, source="machines", expression="happy")
        if status.state is MachineState.OUT_OF_ORDER:
            text = say("out_of_order", name=self._name(machine)) + self._alternative(turn, machine)
            return self._reply(turn, prefix + text, source="machines", expression="apologetic")
        left = self._minutes_left(status, turn)
        if left is None:
            text = say("busy", name=name)
        elif left <= 0:
            text = say("busy_finishing", name=name)
        else:
            text = say("busy_left", name=name, minutes=say.minutes(left))
        if (left is None or left > 3) and not prefix:  # keep a corrected answer short
            text += " " + self._alternative(turn, machine)
        return self._reply(turn, prefix + text, source="machines")

    def _numbers(self, kind: str) -> list[int]:
        return [m.number for m in self.knowledge.machines if m.kind == kind]

    def _no_such_machine(self, turn: _Turn, number: int) -> Answer:
        say = self.say
        ranges = say("kinds_joiner").join(
            say(
                "kind_ranges",
                kinds=say.plural(self._kind(kind), 2),
                ranges=say.number_ranges(self._numbers(kind)),
            )
            for kind in ("washer", "dryer")
            if self._numbers(kind)
        )
        text = say("no_such_machine", number=number, ranges=ranges)
        return self._reply(turn, _cap(text), source="machines", expression="thinking")

    def _free_machines(self, turn: _Turn) -> Answer:
        say = self.say
        kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
        free_parts, none_free, unknown = [], [], 0
        for kind in kinds:
            group = [m for m in self.knowledge.machines if m.kind == kind]
            free = [m.number for m in group if _state(turn, m) is MachineState.FREE]
            unknown += sum(1 for m in group if m.number not in turn.statuses)
            if free:
                label = say.plural(self._kind(kind), len(free))
                free_parts.append(say("free_item", kinds=label, numbers=say.number_list(free)))
            elif any(m.number in turn.statuses for m in group):
                none_free.append((kind, group))
        total = sum(1 for m in self.knowledge.machines if m.kind in kinds)
        if unknown == total:
            return self._reply(
                turn,
                say("no_status_all"),
                source="machines",
                expression="thinking",
                intent="free-machines",
            )
        parts = []
        if free_parts:
            parts.append(say("free_now", items=say.join_and(free_parts)))
        for kind, group in none_free:
            soonest = self._soonest(turn, group)
            label = say.plural(self._kind(kind), 2)
            if soonest:
                parts.append(say("none_free_soonest", kinds=label, soonest=soonest))
            else:
                parts.append(say("none_free", kinds=label))
        if unknown:
            machines = say.plural(self._kind("machine"), unknown)
            parts.append(say("unknown_some", count=unknown, machines=machines))
        expression = "happy" if free_parts else "apologetic"
        return self._reply(
            turn, " ".join(parts), source="machines", expression=expression, intent="free-machines"
        )

    # --- escalations ------------------------------------------------------------------------
    # Honest about what happens: the answer says the report is recorded and gives the staff
    # phone; the gateway says "I've messaged the staff" instead only once a channel took it.

    def _escalation(self, turn: _Turn, before: str, after: str, expression: str) -> Answer:
        # Parts finished one by one: a particle depends only on the sound just before it.
        kind = turn.intent
        phone = self.knowledge.staff_phone
        report = StaffReport(kind, phone, self.say.finish(before), self.say.finish(after))
        text = report.before + self.say.staff_told(kind, phone, None, 0) + report.after
        return self._reply(turn, text, expression=expression, report=report)

    def _call_staff(self, turn: _Turn) -> Answer:
        return self._escalation(turn, "", self._staff_now(turn), "concerned")

    def _money_taken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        about = self.say("about_machine", name=self._name(turn.machine)) if turn.machine else ""
        # How refunds work is said on request ("how long do refunds take?": refunds).
        before = self.say("money_taken_sorry", about=about, note=k.money_taken_note)
        return self._escalation(turn, before, "", "apologetic")

    def _machine_broken(self, turn: _Turn) -> Answer:
        k = self.knowledge
        machine = turn.machine
        if machine is not None:
            which = self._name(machine)
        else:
            which = self.say("the_kind", kind=self._kind(turn.kind or "machine"))
        free = self._free_alternative(turn, machine) if machine else None
        instead = self.say("instead", name=self._name(free)) if free else ""
        broken = k.machine_broken
        if self.language.code == "en":  # it follows "Sorry about washer 5;"
            broken = broken[:1].lower() + broken[1:]
        before = self.say("machine_broken_sorry", which=which, instead=instead, broken=broken)
        return self._escalation(turn, before, "", "concerned")

    def _fallback(self, turn: _Turn) -> Answer:
        # No content words at all ("um", noise): say so, rather than "can't help".
        heard = bool(turn.norm.features)
        opening = self.say("fallback_unclear" if heard else "fallback_unheard")
        text = self.say("fallback", opening=opening)
        return self._reply(turn, text, source="fallback", expression="thinking")


def _state(turn: _Turn, machine: MachineInfo) -> MachineState | None:
    status = turn.statuses.get(machine.number)
    return status.state if status is not None else None


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plain(text: str) -> str:
    """Lowercase, curly apostrophes straight, spaces collapsed: what the cues read."""
    text = re.sub(r"[\u2018\u2019`´]", "'", text.lower())
    return " ".join(text.split())
