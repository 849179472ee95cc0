"""The dialogue brain v1: a question + machine status + the time -> a short spoken Answer.

Dialog precomputes everything from the knowledge file (phrase index, speller, lookups) so that
answer() is pure computation with no I/O: it runs on the gateway's event loop.

Every answer ends with something the customer can do next (look at the display, use another
machine, call the staff number), because nobody is on site most of the time.

One Dialog speaks one language, the knowledge file's: its example phrases, normaliser, answer
templates and recogniser phrase forms come from that language's unit (laundrybot/lang/).

The answering is in parts, one job each: facts.py (knowledge answers), machine_answers.py
(machine states), escalations.py (staff reports), memory.py (the state between turns),
readings.py (what the classifier's pick is re-read as), shaping.py (yes/no leads, declining,
clarifying); turn.py holds what they share.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import re
import zoneinfo
from collections.abc import Callable, Mapping

from laundrybot import lang
from laundrybot.dialog.classify import TfidfClassifier
from laundrybot.dialog.escalations import Escalations
from laundrybot.dialog.intents import ESCALATIONS, INTENTS, KIND_AGNOSTIC, POLICIES, USES_MACHINE
from laundrybot.dialog.knowledge import Knowledge, SizeInfo
from laundrybot.dialog.matching import THRESHOLD, IntentMatcher
from laundrybot.dialog.normalize import MachineRef, Normalized
from laundrybot.dialog.readings import Readings
from laundrybot.dialog.shaping import CLARIFY_FLOOR, Shaping
from laundrybot.dialog.state import DialogueState
from laundrybot.dialog.turn import (
    DAY_WORDS,
    ENTITY_FEATURES,
    EXPRESSIONS,
    NIGHT_WORDS,
    OBJECT_INTENTS,
    TIME_WORDS,
    Answer,
    Context,
    StaffReport,
    Turn,
    cap,
    days_asked,
    place_named,
    plain,
    sentences,
)
from laundrybot.machines.state import MachineStatus

__all__ = ["EXPRESSIONS", "MACHINE_CONFIDENCE", "Answer", "Dialog", "StaffReport"]

MAX_QUESTION_CHARS = 500  # longer input is cut: nobody asks a laundromat an essay
MAX_SAID_CHARS = 2000  # the last reply kept for "say that again" (a reply is far shorter)
# Confidence of an answer chosen because the question named a machine number ("dryer 12?")
# rather than because its words matched: the number itself is strong evidence.
MACHINE_CONFIDENCE = 0.75
# A statement this close to a problem example is a problem even when no problem cue matched it
# ("dryer eleven stop in the middle"); asked ("is washer 4 broken?"), it is a status question.
STATED_PROBLEM = 0.5
# A later piece put as a question of its own stands apart at this score, under THRESHOLD, when
# it leans to a topic other than the piece before ("..., and where do forgotten ones go?").
WEAK = 0.25
# Pieces of utterances whose normal form is kept (a piece is at most MAX_QUESTION_CHARS).
NORMALIZED_CACHE = 512
# Scores this close are ties the question's form decides ("how long ..." is a time asked).
CLOSE_RANKS = 0.1
# A word in the examples or texts of this many topics names no one thing ("can", "use").
COMMON_ACROSS = 4
# The classifier: "matcher" (word features, best example), "knn" (TF-IDF words + character
# n-grams, best example) or "centroid" (the same vectors, each intent's mean). Chosen by
# measurement on held-apart data (bench/understanding_classifiers.py: trained on one tuning
# set, scored on the other): the matcher, en 79.6% on tuning2 against kNN 74.6% (76.5% with
# tuning's utterances added), ko 84.3% against kNN 84.8% (82.6% with them), kNN losing ko
# tuning 2 points when trained on tuning2.
CLASSIFIER = "matcher"


class Dialog(Escalations, Shaping, Readings):
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

        # Size names and descriptions are known words too: "stack" is the big dryer's word,
        # never a misspelt "stuck".
        sizes = knowledge.washers + knowledge.dryers
        size_names = [s.name for s in sizes] + [s.description for s in sizes]
        # Cached: cutting a long utterance reads each of its pieces many times over (bounded;
        # Normalized is immutable).
        self.normalizer = self.language.normalizer([p for _, p in examples] + size_names)
        # What a machine's kind reads as ("washer" -> "wash"): a machine named by its number
        # only ("how long does machine six take") is read as of its kind.
        self.kind_features = {
            kind: self.normalizer(word).features for kind, word in self.say.kinds.items()
        }
        self.normalize = functools.lru_cache(maxsize=NORMALIZED_CACHE)(self._read)
        # The same for whether a piece stands as a request, or is put as a question.
        self._stands = functools.lru_cache(maxsize=NORMALIZED_CACHE)(self._stands_read)
        self._asks = functools.lru_cache(maxsize=NORMALIZED_CACHE)(self._asks_read)
        self.sizes_by_word: dict[str, list[SizeInfo]] = {}
        for size in knowledge.washers + knowledge.dryers:
            self.sizes_by_word.setdefault(size.name, []).append(size)
        featured = [
            (intent, self._size_feature(self.normalize(phrase)).features)
            for intent, phrase in examples
        ]
        self.matcher = IntentMatcher(featured)
        self.classifier = classifier
        self.tfidf = TfidfClassifier(featured, centroid=classifier == "centroid")
        self.cues = self.language.cues
        self.known_intents = frozenset(INTENTS) | set(self.faq_text) | set(self.rule_text)
        # The words greetings and thanks open with ("hey", "good", "thank"), as the examples say.
        self.greeting_words = frozenset(
            phrase.split()[0]
            for intent in ("greeting", "thanks")
            for phrase in self.language.examples.get(intent, ())
            if phrase.split()
        )
        self._phrases = self._recognition_phrases(examples)
        self.described_sizes = self._size_words(featured)
        self.size_words = frozenset(self.described_sizes)
        # How many loads each washer size holds, as its description says, fewest first.
        held = [(self.cues.load_count(s.description), s) for s in knowledge.washers]
        self.washer_loads = sorted(
            ((n, s) for n, s in held if n is not None), key=lambda item: item[0]
        )
        # What the shop sells, in the words of its sales text and the detergent examples.
        self.sold_words = frozenset(
            f
            for text in (*knowledge.howto.detergent, *self.language.examples.get("detergent", ()))
            for f in self.normalize(text).features
        )
        self.places = self._other_places()
        # An owner's rule or answer in its own words (text and example questions), and the
        # words so common across topics that they name no thing ("can", "use", "here"): a
        # rule asked about a thing it never names is not covered by it (_not_covered).
        own: dict[str, set[str]] = {}
        for intent, features in featured:
            own.setdefault(intent, set()).update(features)
        for intent, text in (self.faq_text | self.rule_text).items():
            own.setdefault(intent, set()).update(self.normalize(text).features)
        self.own_words = {i: frozenset(f) for i, f in own.items()}
        spread = collections.Counter(f for features in own.values() for f in features)
        self.common_words = frozenset(f for f, n in spread.items() if n >= COMMON_ACROSS)
        self.shop_words = frozenset(spread)
        # The ways to pay, in words no price or cycle example has ("loyalty", "card"): a price
        # asked of one of those is of a thing the shop's facts give no price.
        priced = {
            f for intent, features in featured if intent in ("prices", "cycle-times")
            for f in features
        }  # fmt: skip
        methods = {f for m in knowledge.payment_methods for f in self.normalize(m).features}
        self.unpriced = frozenset(
            f for f in methods - priced - ENTITY_FEATURES if "_" not in f and not f.isdigit()
        )

        # The words a payment is said in ("card", "coin", "pay"): the payment-problem examples'
        # words that the payment examples or the ways to pay say and no broken machine does.
        def words_of(intent: str) -> set[str]:
            return {
                f
                for phrase in self.language.examples.get(intent, ())
                for f in self.normalize(phrase).features
                if "_" not in f
            }

        self.payment_words = frozenset(
            (words_of("payment-problem") & (words_of("payment") | methods))
            - words_of("machine-broken")
        )

        self.handlers: dict[str, Callable[[Turn], Answer]] = {
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
            "machine-info": self._machine_info,
            "call-staff": self._call_staff,
            "money-taken": self._money_taken,
            "machine-broken": self._machine_broken,
            "fallback": self._fallback,
            "refunds": self._refunds,
            "problem-help": self._problem_help,
        }

    def _read(self, text: str) -> Normalized:
        """The language unit's reading of ``text``, with the kind of a machine it names by
        number alone ("machine 6" is a washer) filled in."""
        norm = self.normalizer(text)
        ref = norm.machine
        if ref is None or ref.kind is not None or ref.number not in self.by_number:
            return norm
        kind = self.by_number[ref.number].kind
        extra = tuple(f for f in self.kind_features.get(kind, ()) if f not in norm.features)
        return Normalized(
            norm.words, norm.features + extra, MachineRef(kind, ref.number), norm.kinds | {kind}
        )

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
        gets each answered, in order, in one reply. "Say that again" gets the last reply.
        """
        state = state or DialogueState()
        again = self._said_again(question[:MAX_QUESTION_CHARS], state)
        if again is not None:
            return again
        answer = self._answer_all(question, machines, now, state)
        said = answer.text[:MAX_SAID_CHARS]
        return dataclasses.replace(answer, state=dataclasses.replace(answer.state, said=said))

    def _said_again(self, question: str, st: DialogueState) -> Answer | None:
        """The last reply, when the customer asks to hear it again ("sorry, could you say
        that again?", "thank you. would you repeat the number"); None otherwise."""
        if not st.said:
            return None
        low = self.cues.text(plain(question)).strip()
        asked = self.cues.repeat.search(low)
        if asked is None:
            return None
        before = low[: asked.start()].strip(" ,.!?")
        if before and not self._greets(before):
            return None
        state = dataclasses.replace(st, turns=st.turns + 1)
        return Answer(st.said, "repeat", "knowledge", "neutral", None, state=state)

    def _answer_all(
        self,
        question: str,
        machines: Mapping[int, MachineStatus],
        now: datetime.datetime,
        state: DialogueState,
    ) -> Answer:
        local = now.astimezone(self.tz)
        counted = self._counted_price(question[:MAX_QUESTION_CHARS], state)
        if counted is not None:  # "two regulars plus one large, what's my total"
            text, size = counted
            sized = self.normalize(f"{size.name} {self.say.kinds[size.kind]}")
            low = self.cues.text(plain(question[:MAX_QUESTION_CHARS]))
            cont = Context(st=state, local=local, machines=machines, low=low)
            priced = self._respond("prices", sized, None, **cont, text=text, score=THRESHOLD)
            # "..., and how long will they take": asked of what was just priced, after it.
            then = [priced]
            for piece in self._after_counted(question[:MAX_QUESTION_CHARS]):
                then.append(self._answer_one(piece, machines, local, then[-1].state, True))
            if len(then) == 1:
                return priced
            return dataclasses.replace(
                priced,
                text=" ".join(a.text.strip() for a in then),
                confidence=min(a.confidence for a in then),
                state=then[-1].state,
            )
        answers: list[Answer] = []
        cut = self._pieces(question[:MAX_QUESTION_CHARS], state)
        cut = [each for part in cut for each in self._each_object(part)]
        pieces = [each for part in cut for each in self._each_machine(part)]
        # "suppose a dryer breaks, would I get my money back": every part is supposed.
        supposed = len(pieces) > 1 and bool(self.cues.hypothetical.search(plain(pieces[0])))
        asked: DialogueState | None = None  # a part that asked which machine
        # "what about the large" after "how much is the regular and how long does it run": the
        # follow-up asked of both topics, the first's first.
        both = self._both_asked(pieces, state)
        if both:
            pieces = [pieces[0]] * len(both)
        for at, piece in enumerate(pieces):
            if both:
                state = dataclasses.replace(state, intent=both[at])
            # A later piece that is only an object ("how much are the washers and dryers")
            # shares the predicate of the one before: it is answered as a follow-up; one that
            # points back at a machine the piece before named is asked of that machine.
            elif at:
                piece = self._machine_shared(pieces[at - 1], piece)
                piece = self._size_shared(pieces[at - 1], piece, state)
            one = self._answer_one(
                piece, machines, local, state, joined=bool(answers), supposed=supposed
            )
            placed = next((a.report_update for a in answers if a.report_update), None)
            if one.escalation is not None and placed is not None and one.machine in (None, placed):
                # "it's washer 5, the door handle snapped off": the machine just added to the
                # call's report, and why; told on, not a report of its own.
                continue
            state = one.state
            if one.state.pending == "report-machine":
                asked = one.state
            elif asked is not None and state.pending is None and state.report is None:
                # "a dryer stopped, and what's the staff number": the machine asked for by
                # the first part is still awaited after the second part is answered.
                state = dataclasses.replace(
                    state, pending=asked.pending, pending_kind=asked.pending_kind
                )
            said_before = {self._opening(x) for a in answers for x in sentences(a.text)}
            if (
                answers
                and one.escalation is None
                and all(self._opening(x) in said_before for x in sentences(one.text))
            ):
                continue  # "주차 무료예요? 몇 시간까지요?": the first answer said it already
            said_whole = {x for a in answers for x in sentences(a.text)}
            kept = [x for x in sentences(one.text) if x not in said_whole]
            if answers and one.escalation is None and kept != sentences(one.text) and kept:
                # "X is cheaper, do you price match": what the first answer said is not said
                # again after the second's lead.
                one = dataclasses.replace(one, text=" ".join(kept))
            if one.machine is not None and one.machine in self.by_number:
                # "are 7 and 8 both busy": 8 is answered itself, not also offered after 7.
                named = cap(self._name(self.by_number[one.machine]))
                for i, a in enumerate(answers):
                    kept = [x for x in sentences(a.text) if not x.startswith(named)]
                    if a.machine not in (None, one.machine) and kept:
                        answers[i] = dataclasses.replace(a, text=" ".join(kept))
            opening = self._opening(one.text)
            same = next(
                (i for i, a in enumerate(answers) if self._opening(a.text) == opening), None
            )
            if same is None:
                answers.append(one)
            else:
                # "coins and cards?": one answer, not the same one twice; what the second
                # adds ("... top up at the kiosk") is said once, after it.
                said = answers[same].text
                told = {self._opening(x) for x in sentences(said)}
                extra = [x for x in sentences(one.text) if self._opening(x) not in told]
                if extra:
                    # The rest of the steps, said now, are no longer to be offered.
                    offer = self.say("more_steps")
                    said = " ".join(x for x in sentences(said) if x != offer)
                    answers[same] = dataclasses.replace(
                        answers[same], text=" ".join([said, *extra])
                    )
        if both:
            state = dataclasses.replace(state, also=both[0])
            if len(answers) == 1:
                return dataclasses.replace(answers[0], state=state)
        elif len(answers) > 1:
            state = dataclasses.replace(state, also=self._asked_also(answers, state))
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

    def _asked_also(self, answers: list[Answer], state: DialogueState) -> str | None:
        """The topic asked first in a turn that asked two of one object, none a problem ("how
        much is the regular washer and how long does it run"): a follow-up asks it too."""
        first, last = answers[0], answers[-1]
        if (
            len(answers) != 2
            or any(a.escalation is not None or a.intent not in OBJECT_INTENTS for a in answers)
            or first.intent == last.intent
            or state.intent != last.intent
            or first.state.machine != state.machine
            or first.state.size != state.size
        ):
            return None
        return first.intent

    def _both_asked(self, pieces: list[str], state: DialogueState) -> list[str]:
        """The two topics a follow-up with none of its own is asked of, after a turn that asked
        two of one object (``state.also``); none otherwise."""
        if state.also is None or state.intent is None or len(pieces) != 1:
            return []
        low = self.cues.text(plain(pieces[0]))
        norm = self.normalize(pieces[0])
        if not self._topicless(norm) or self.cues.problem.search(low):
            return []
        ranked = self._rank(norm)
        if ranked and ranked[0][1] >= THRESHOLD and ranked[0][0] not in (state.also, state.intent):
            return []
        return [state.also, state.intent]

    def _after_counted(self, text: str) -> list[str]:
        """The questions put after washes counted and priced ("two regulars and a large, and
        how long will they take"): the last pieces asked of their own, asking no price and
        counting nothing, no problem told."""
        cues, raw = self.cues, self.cues.split(text)
        after: list[str] = []
        for piece in reversed(raw[1:]):
            low = cues.text(plain(piece))
            if (
                not self._asks(low)
                or cues.asks_price.search(low)
                or cues.asks_total.search(low)
                or cues.counted(plain(piece))
                or cues.problem.search(low)
                # "..., and how long till they're done": how long, of the washes counted
                or not (self._stands(piece) or TIME_WORDS & set(self.normalize(piece).words))
            ):
                break
            after.insert(0, piece)
        return after

    def _machine_shared(self, before: str, piece: str) -> str:
        """A later piece pointing back ("it") at the machine the piece before named ("does
        washer 3 take cards, and how much is it"): asked of that machine ("how much is washer
        3"), unless the piece before tells a problem (what "it" is then may be the money)."""
        cues = self.cues
        if cues.problem.search(cues.text(plain(before))):
            return piece
        was, norm = self.normalize(before), self.normalize(piece)
        number = was.machine.number if was.machine is not None else None
        if number not in self.by_number or number is None:
            return piece
        if norm.machine is not None or norm.kinds or cues.bare_number(norm.words) is not None:
            return piece
        low = plain(piece)
        back = cues.it.search(low)
        if back is None:
            return piece
        return low[: back.start()] + self._name(self.by_number[number]) + low[back.end() :]

    def _opening(self, text: str) -> str:
        """An answer's first sentence without its yes or no: two pieces answered alike ("washer
        6, is it in use") are said once."""
        first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
        for lead in (self.cues.yes, self.cues.no):
            if first.startswith(lead):
                first = first[len(lead) :]
        return first[:1].lower() + first[1:]

    def _rank(self, norm: Normalized) -> list[tuple[str, float]]:
        if self.classifier == "matcher":
            return self.matcher.scores(norm.features)
        return self.tfidf.scores(norm.features)

    def _stands_read(self, piece: str) -> bool:
        """Whether a piece of an utterance is a request of its own (so the cut before it holds)."""
        norm = self.normalize(piece)
        if not norm.features and not (norm.machine and norm.machine.number is not None):
            return False
        low = self.cues.text(plain(piece))
        ranked = self._asked_ranked(piece, norm, low)
        if ranked and ranked[0][1] >= THRESHOLD and ranked[0][0] not in ("greeting", "thanks"):
            return True
        cues = self.cues
        return bool(
            (norm.machine and norm.machine.number is not None)
            or (cues.load_count(low) is not None and self._asks(low))  # "fit two loads?"
            or (  # "..., and is 1 free", "... and is one free now"
                (cues.bare_number(norm.words) is not None or {"one", "any"} & set(norm.words))
                and (cues.asks_busy.search(low) or "free" in norm.features)
            )
            or self._step_placed(norm, low)
            or cues.asks_soonest.search(low)  # "which one finishes first, ..."
            or cues.machine_pair.search(plain(piece))
            or cues.problem.search(low)
            or any(p.search(low) for p, _ in cues.items)
        )

    def _asked_ranked(self, piece: str, norm: Normalized, low: str) -> list[tuple[str, float]]:
        """The topics a piece is like; a question is no greeting ("is there a tv in here" is
        not "hey there", nor "are staff there sunday morning" "good morning")."""
        ranked = self._rank(norm)
        greets = ("greeting", "thanks")
        if (
            ranked
            and ranked[0][0] in greets
            and self._asks(low)
            and len(norm.words) > 3
            and not self._greets(piece.split()[0])
        ):
            ranked = [(i, sc) for i, sc in ranked if i not in greets]
        return ranked

    def _greets(self, text: str) -> bool:
        """Whether ``text`` by itself is a greeting or thanks ("hi", "hello there", "hey,")."""
        words = plain(text).split()
        if words and words[0].strip(",.!?") in self.greeting_words:
            return True
        if self._unknown_asked(text):
            return False  # "is there a microwave here" is not "hey there"
        ranked = self._rank(self.normalize(text))
        return bool(ranked) and ranked[0][0] in ("greeting", "thanks") and ranked[0][1] >= THRESHOLD

    def _where_back(self, piece: str) -> bool:
        """A short "where" question pointing back at the things just talked about ("where are
        they", "and where's that"): a question of its own, wherever it is put."""
        low = self.cues.text(plain(piece))
        short = len(piece.split()) <= 4 and not self.cues.problem.search(low)
        return (
            short
            and bool(self.cues.asks_place.search(low))
            and bool(_BACK & set(self.normalize(piece).words))
        )

    def _asked_apart(self, piece: str, before: str | None = None) -> bool:
        """A later piece put as a yes/no question of its own about a thing no topic's examples
        name ("... and is there a tv", "다리미도 있어요?"): answered apart, so declined, not
        lost in the piece before."""
        cues = self.cues
        low = cues.text(plain(piece))
        norm = self.normalize(piece)
        short = len(piece.split()) <= 4 and not cues.problem.search(low)
        if short and (cues.asks_duration.search(low) or cues.when.search(low)):
            return True  # "주차 무료예요? 몇 시간까지요?": how long, of what was just asked
        if self._where_back(piece):
            return True  # "..., and where are they": where the things just asked about are
        if cues.out_of_scope.search(low) and not cues.problem.search(low):
            return True  # "... 배달도 해 줘요?": declined, not lost in the piece before
        unknown = [f for f in norm.features if "_" not in f and f not in self.matcher.weight]
        if (
            len(piece.split()) <= 2
            and unknown
            and len(unknown) == len([f for f in norm.features if "_" not in f])
            and before is not None
            and cues.yes_no.search(cues.text(plain(before)))
            and not cues.problem.search(low)
        ):
            return True  # "do you sell dryer sheets, and bleach?": a thing asked of its own
        # "..., and where's a mop": a thing asked for, or where it is, that no topic names.
        asked = cues.yes_no.search(low) or cues.asks_place.search(low)
        return bool(asked) and self._unknown_asked(piece)

    def _choices_of(self, compared: str, piece: str) -> bool:
        """A piece naming only the things a comparison before it weighs ("which costs less,
        a standard dryer or a big one"): the comparison's, not a request of its own."""
        read = self.cues.text(plain(compared))
        if not self.cues.compares.search(read) or self._asks(self.cues.text(plain(piece))):
            return False
        norm = self.normalize(piece)
        named = bool(norm.kinds) or any(w in self.sizes_by_word for w in norm.words)
        return named and self._topicless(norm)

    def _unknown_asked(self, piece: str) -> bool:
        """A piece that is a question of its own about a thing no topic's examples name ("do
        you have a tv", "how old are the machines"), nothing in it pointing back and no
        problem told: a request apart, first or later, so declined rather than lost."""
        low = self.cues.text(plain(piece))
        norm = self.normalize(piece)
        unknown = [f for f in norm.features if "_" not in f and f not in self.matcher.weight]
        words = list(norm.words)
        back = [i for i, w in enumerate(words) if w in {"it", "they", "them", "that", "those"}]
        # "is there a plug to charge it": the thing asked for is named before what points back.
        had = bool(self.cues.asks_have.search(low)) and bool(unknown) and unknown[0] in words
        return (
            len(piece.split()) >= 2
            and bool(unknown)
            and (not back or (had and words.index(unknown[0]) < back[0]))  # the one before
            and self._asks(low)
            and not self.cues.problem.search(low)
        )

    def _pieces(self, text: str, st: DialogueState | None = None) -> list[str]:
        raw = self.cues.split(text)
        # "thanks! oh one more thing, how late ...": the announcement asks nothing itself.
        raw = [p for p in raw if not self.cues.announces.match(self.cues.text(plain(p)))] or raw
        if len(raw) <= 1:
            return [text]
        problem, read = self.cues.problem, lambda t: self.cues.text(plain(t))
        dropped = False
        spans = _spans(text, raw)
        # A piece put as a question: asked in its words, or with a question mark after it
        # ("..., refunds how?") when it tells no problem of its own ("..., refunds?").
        hypothetical = self.cues.hypothetical
        asked = [
            self._asks(read(p))
            or (
                text[end:].lstrip().startswith("?")
                and (not problem.search(read(p)) or bool(hypothetical.search(read(p))))
            )
            for p, (_, end) in zip(raw, spans, strict=True)
        ]
        # A piece that is a whole sentence keeps its question mark: "4번 고장 났어요? 그렇다면
        # ..." asks whether 4 is broken (no report), as it would alone.
        raw = [
            f"{p}?"
            if text[end:].lstrip().startswith("?")
            and text[:start].rstrip()[-1:] in ("", ".", "?", "!")
            and not p.endswith("?")
            else p
            for p, (start, end) in zip(raw, spans, strict=True)
        ]
        asks_of = dict(zip(raw, asked, strict=True))
        told = [bool(problem.search(read(p))) for p in raw]
        if any(told) and not told[0]:
            at = told.index(True)
            if any(asked[:at]):
                # "when are staff in on sunday? also dryer 11 took my card": the question
                # first, then the problem, each as it would be alone.
                head, tail = text[: spans[at - 1][1]], text[spans[at][0] :]
                return self._pieces(head, st) + self._pieces(tail, st)
        if problem.search(read(text)) and not any(asked[1:]):
            # A problem told in pieces ("dryer 11 ate my quarters, nothing happened") is one
            # complaint; it is cut only where a question of its own follows ("..., is 6 free?").
            return [text]
        if self._greets(raw[0]) and any(self._stands(p) for p in raw[1:]):
            # "hi, how much is a large load and ...": the requests; "hey where's the
            # restroom, also ...": the request the greeting opens, too (not "thanks so much").
            ranked = self._rank(self.normalize(raw[0]))
            whole = bool(ranked) and ranked[0][0] in ("greeting", "thanks")
            whole = whole and ranked[0][1] >= THRESHOLD
            rest = raw[0].split(maxsplit=1)[1:]
            opened = not whole and rest and self._stands(rest[0]) and not self._greets(rest[0])
            raw = [rest[0], *raw[1:]] if opened else raw[1:]
            while (  # "thanks so much, you've been great! ...": every thanks before it
                len(raw) > 1
                and self._greets(raw[0])
                and not self._stands(raw[0])
                and any(self._stands(p) for p in raw[1:])
            ):
                raw = raw[1:]
            if len(raw) == 1:
                return raw
            # "thanks! so, how late can I ...": the rest, as one, if it is one, when the
            # greeting or thanks is all the first piece says.
            dropped = whole
        pieces: list[str] = []
        for piece in raw:
            if pieces and self._choices_of(pieces[-1], piece):
                pieces[-1] = f"{pieces[-1]} {piece}"  # "which is cheaper, the regular or ..."
                continue
            # "washer 2 didn't count my quarters and it won't start": one complaint, told on.
            told_on = (
                bool(pieces)
                and bool(problem.search(read(pieces[-1])))
                and bool(problem.search(read(piece)))
                and not asks_of.get(piece, self._asks(read(piece)))
            )
            # "dryer 12 is hot on the outside and smells burnt": the problem, told of the
            # machine the piece before names (and asks nothing of), one complaint.
            told_on = told_on or (
                bool(pieces)
                and bool(problem.search(read(piece)))
                and not asks_of.get(piece, self._asks(read(piece)))
                and not self._asks(read(pieces[-1]))
                and not number_free(was := self.normalize(pieces[-1]))
                and not self._referential(was)  # "washer 6, its lid cracked": the machine given
                and number_free(said := self.normalize(piece))
                and not said.kinds
            )
            # "dryer 9 took my quarters, what should I do": the complaint, then what to do.
            then_what = (
                bool(pieces)
                and bool(problem.search(read(pieces[-1])))
                and not problem.search(read(piece))
                and bool(self.cues.what_now.search(read(piece)))
            )
            # "someone left clothes in dryer 13 and it's done, what's the rule": a statement
            # pointing back at the statement before is told on, not a request of its own.
            told_more = (
                bool(pieces)
                and not asks_of.get(piece, True)
                and not self._asks(read(pieces[-1]))
                and not problem.search(read(piece))
                and len(piece.split()) <= 6
                and bool(_BACK & set((said := self.normalize(piece)).words))
                and number_free(said)
                and self.cues.bare_number(said.words) is None
                and not self.cues.machine_pair.search(plain(text))
            )
            own = then_what or (
                not told_on
                and not told_more
                and (
                    self._stands(piece)
                    or (pieces and self._asked_apart(piece, pieces[-1]))
                    or (pieces and self._other_kind(pieces[-1], piece))
                    or (pieces and self._size_apart(pieces[-1], piece, st))
                    or (pieces and self._asked_anew(pieces[-1], piece))
                    or (len(pieces) == 1 and self._asked_back(pieces[0], piece, st))
                )
            )
            # At most three requests; an opening word that asks nothing ("sir, ...") is none.
            requests = len(pieces) - (not self._stands(pieces[0]) if pieces else 0)
            if pieces and (not own or requests >= 3):
                merged = f"{pieces[-1]} {piece}"
                if (
                    not own
                    and not self._asks(self.cues.text(plain(piece)))
                    and self._stands(pieces[-1])
                    and not self._stands(merged)
                ):
                    # "can i wash my bath mat? it's got that rubber stuff on the back": a
                    # detail told after the question, whose words would drown it.
                    dropped = True
                    continue
                pieces[-1] = merged
            else:
                pieces.append(piece)
        first, given = True, self._machine_given(pieces[0], st)
        while (
            len(pieces) > 1
            and not given
            and (
                (
                    first
                    and not self._stands(pieces[0])
                    and not self._declined_apart(pieces[0], pieces[1])
                    # "where are they and is one free" after the giant washers: asked apart
                    and not self._where_back(pieces[0])
                    # "and they stay until when, and is sunday the same": each a follow-up
                    and not self._asked_back(pieces[0], pieces[1], st)
                    # "when do you close and when do staff leave": a question of its own,
                    # however weakly, of a topic other than the one after it, which does not
                    # point back at it ("what happens to lost socks, how long are they kept")
                    and not (
                        self._asked_anew(pieces[1], pieces[0])
                        and not _BACK & set(self.normalize(pieces[1]).words)
                    )
                    # "what does 2 dollars get me, and in the big one": asked of each size
                    and not self._size_apart(pieces[0], pieces[1], st)
                    # "do you have a tv, and is parking free": the first asked apart
                    and not (
                        self._unknown_asked(pieces[0])
                        and self._stands(pieces[1])
                        and self._asks(self.cues.text(plain(pieces[1])))
                    )
                )
                or (first and self._told_then_asked(pieces[0], pieces[1]))
                or (
                    self._named_then_asked(pieces[0], pieces[1])
                    # "and the password, and is it free?" after the wifi: each a follow-up
                    and not self._goes_on(pieces[0], st)
                )
            )
        ):
            pieces[:2] = [f"{pieces[0]} {pieces[1]}"]
            first = False
        return pieces if len(pieces) > 1 or dropped else [text]

    def _asked_back(self, piece: str, then: str, st: DialogueState | None) -> bool:
        """An opening question that points back at what the turns before were about ("and
        they stay until when, ...") before a question of its own: a follow-up by itself, not
        the words of the question after it."""
        if st is None or st.intent is None or st.pending is not None:
            return False
        cues = self.cues
        low, after = cues.text(plain(piece)), cues.text(plain(then))
        return (
            self._asks(low)
            and (self._asks(after) or bool(cues.follow_up.search(after)))
            and not cues.problem.search(low)
            and not cues.problem.search(after)
            # As said: "they" who come and go are read as the staff.
            and bool(_BACK & set(plain(piece).replace(",", " ").split()))
        )

    def _goes_on(self, piece: str, st: DialogueState | None) -> bool:
        """A piece naming a thing of the topic talked about ("and the password" after the
        wifi): a follow-up of its own, not a topic named for the question after it."""
        if st is None or st.intent is None or st.intent in ESCALATIONS:
            return False
        ranked = self._rank(self.normalize(piece))
        return bool(ranked) and ranked[0][0] == st.intent and ranked[0][1] >= CLARIFY_FLOOR

    def _machine_given(self, piece: str, st: DialogueState | None) -> bool:
        """The machine asked for ("which machine is it?" - "sixteen, and how long for the
        refund"), given first: a reply of its own, the rest asked after it."""
        if st is None or st.pending not in ("report-machine", "machine"):
            return False
        norm = self._expected_machine(piece, st) or self.normalize(piece)
        if norm.machine is not None and norm.machine.number is not None:
            return self._referential(norm)
        return self.cues.bare_number(norm.words) is not None and self._referential(norm)

    def _declined_apart(self, piece: str, then: str | None = None) -> bool:
        """An opening piece asking what the shop does not serve ("can you play some music,
        ...", "what's the weather like and ..."): declined apart, not lost in the request
        after it."""
        cues = self.cues
        low = cues.text(plain(piece))
        asked = self._asks(low) and not cues.problem.search(low)
        if asked and then is not None and cues.yes_no.search(low) and self._stands(then):
            # "do you have an iron? and is there ...": a thing no topic's examples name, asked
            # of its own before a request of its own.
            norm = self.normalize(piece)
            words = [f for f in norm.features if "_" not in f and f not in ENTITY_FEATURES]
            unknown = [f for f in words if f not in self.matcher.weight]
            if unknown and len(unknown) == len(words):
                return True
            # "do you sell laundry bags, and ...": a thing the shop does not sell.
            ranked = self._rank(norm)
            if ranked and ranked[0][0] == "detergent" and self._not_sold("detergent", norm):
                return True
        # "book me a table somewhere, and where do I park": a request, if put as none.
        asked = asked or (bool(cues.asks_for.search(low)) and not cues.problem.search(low))
        return asked and bool(cues.out_of_scope.search(low))

    def _asked_anew(self, before: str, piece: str) -> bool:
        """A later piece put as a question of its own ("..., and where do forgotten ones go?")
        that leans, if weakly, to a topic other than the one the piece before is: answered
        apart, not drowned in the piece before."""
        low = self.cues.text(plain(piece))
        if len(piece.split()) < 3 or not self._asks(low) or self.cues.problem.search(low):
            return False
        mine = self._asked_ranked(piece, self.normalize(piece), low)
        theirs = self._rank(self.normalize(before))
        return (
            bool(mine and theirs)
            and mine[0][1] >= WEAK
            and mine[0][0] not in ("fallback", "greeting", "thanks", theirs[0][0])
            and theirs[0][1] >= WEAK
        )

    def _names_other_owned(self, norm: Normalized, best: str, score: float, last: str) -> bool:
        """Whether a piece leaning to an owner's topic other than the last one names a thing
        only that topic's words name, none of the last one's ("the parking lot" after the
        wifi)."""
        if not best.startswith(("faq:", "rule:")) or best == last or score < CLARIFY_FLOOR:
            return False
        named = {f for f in norm.features if "_" not in f} - self.common_words - ENTITY_FEATURES
        mine, theirs = self.own_words.get(best, frozenset()), self.own_words.get(last, frozenset())
        return bool(named & mine - theirs)

    def _other_kind(self, before: str, piece: str) -> bool:
        """A later piece that only names a machine kind other than the one asked about before
        ("how much is the regular washer and the standard dryer"): asked of it too, as a
        follow-up of the piece before."""
        norm, was = self.normalize(piece), self.normalize(before)
        ranked = self._rank(was)
        return (
            bool(norm.kinds)
            and (norm.machine is None or norm.machine.number is None)
            and self._topicless(norm)
            and not norm.kinds & was.kinds
            and self._stands(before)
            and (
                self._asks(self.cues.text(plain(before)))
                # "price of the giant washer, and the big dryer": a request put as a noun
                or (bool(ranked) and ranked[0][0] in OBJECT_INTENTS and ranked[0][1] >= THRESHOLD)
            )
        )

    def _sizes_of(self, piece: str, st: DialogueState | None) -> tuple[set[str], str | None]:
        """The size names a piece names, as read ("the little one" after dryers: the standard
        dryer), with their kind."""
        state = st or DialogueState()
        norm = self.normalize(piece)
        read = self._sizes_read(norm, self.cues.text(plain(piece)), state)
        sizes = {w for w in read.words if w in self.sizes_by_word}
        kinds = {s.kind for w in sizes for s in self.sizes_by_word[w]}
        kind = next(iter(read.kinds), None) if len(read.kinds) == 1 else None
        if kind is None and len(kinds) == 1:
            kind = next(iter(kinds))
        return sizes, kind or state.kind

    def _size_apart(self, before: str, piece: str, st: DialogueState | None) -> bool:
        """A later piece that only names a size other than the one the piece before asks about
        ("what does 2 dollars get me, and in the big one?" after the standard dryer): asked of
        it too, as the piece before is."""
        norm, was = self.normalize(piece), self.normalize(before)
        if (norm.machine and norm.machine.number is not None) or not number_free(norm):
            return False
        if not self._topicless(norm) or self.cues.problem.search(self.cues.text(plain(piece))):
            return False
        if was.machine is not None and was.machine.number is not None:
            return False
        sizes, kind = self._sizes_of(piece, st)
        earlier, kind_before = self._sizes_of(before, st)
        if kind != kind_before:
            return False  # "the regular washer and the standard dryer": another kind's
        if not earlier and st is not None and st.size is not None:
            earlier = {st.size}
        ranked = self._rank(was)
        read = self.cues.text(plain(before))
        # "what does 2 dollars get me": a sum of money or a time asked for is a price asked.
        priced = (
            self.cues.money_given(read) is not None or self.cues.minutes_wanted(read) is not None
        )
        return (
            bool(sizes)
            and bool(earlier)
            and not sizes & earlier
            and (
                priced
                or (
                    bool(ranked)
                    and ranked[0][0] in ("prices", "cycle-times")
                    and ranked[0][1] >= WEAK
                    and self._stands(before)
                )
            )
        )

    def _size_shared(self, before: str, piece: str, st: DialogueState) -> str:
        """A later piece naming only another size ("..., and in the big one?"): the piece before
        asked of that size ("what does 2 dollars get me" in the big dryer)."""
        if not self._size_apart(before, piece, st):
            return piece
        sizes, kind = self._sizes_of(piece, st)
        if kind is None or len(sizes) != 1:
            return piece
        low = plain(before)
        for pattern in (self.cues.largest, self.cues.smallest):
            low = pattern.sub(" ", low)
        names = "|".join(map(re.escape, self.sizes_by_word))
        low = re.sub(rf"\b({names})\b", " ", low)
        return " ".join(f"{low} {next(iter(sizes))} {self.say.kinds[kind]}".split())

    def _told_then_asked(self, first: str, then: str) -> bool:
        """Something told, then a question about it ("I work till 7 on saturdays, will anyone
        be here after that"): one question, the told part its time, day or thing."""
        cues, read = self.cues, lambda t: self.cues.text(plain(t))
        return (
            bool(cues.tells.search(read(first)))
            and not self._asks(read(first))
            and not cues.problem.search(read(first))
            and not self._greets(first)
            and self._asks(read(then))
            and bool(_BACK & set(self.normalize(then).words) or cues.back.search(read(then)))
        )

    def _named_then_asked(self, first: str, then: str) -> bool:
        """A topic named alone, then asked about ("so refunds, when do they come"): one
        question."""
        read, norm = self.cues.text(plain(first)), self.normalize(first)
        sizes = {w for w in norm.words if w in self.sizes_by_word}
        if len(sizes) >= 2 and self._topicless(norm) and not self._asks(read):
            return self._asks(self.cues.text(plain(then)))  # "the standard and big dryers, ..."
        both = self.cues.of_two.search(f" {plain(first)}")
        named = self.normalize(self.cues.of_two.sub(" ", f" {plain(first)}"))
        if (
            both is not None
            and len(first.split()) <= 5
            and (named.kinds or any(w in self.sizes_by_word for w in named.words))
            and self._topicless(named)
            and number_free(named)
            and not self._asks(read)
            and _BACK & set(self.normalize(then).words)
            and self._asks(self.cues.text(plain(then)))
        ):
            return True  # "both large washers, are they free": asked of both
        return (
            len(first.split()) <= 3
            and not norm.kinds  # "the big dryer, how long does it run": both answered
            and norm.machine is None
            and not self._asks(read)
            and (  # "sat and sun, what time does the staff leave": the days of the question
                bool(_BACK & set(self.normalize(then).words))
                or (bool(norm.features) and self._topicless(norm) and self._asks(then.lower()))
            )
        )

    def _each_object(self, piece: str) -> list[str]:
        """Two things sharing one predicate ("와이파이랑 화장실 있어요?") asked once for each,
        when both stand as requests of their own."""
        pair = self.cues.object_pair.search(plain(piece))
        if pair is None or self.cues.machine_pair.search(plain(piece)):
            return [piece]
        if self.cues.compares.search(self.cues.text(plain(piece))):
            return [piece]  # "일반이랑 대형 차이가 뭐예요": the two weighed together
        pre = pair.group("pre") + " " if "pre" in pair.re.groupindex else ""
        asked = [f"{pre}{pair.group(n)} {pair.group('rest')}".strip() for n in ("a", "b")]
        if not all(self._stands(each) for each in asked):
            return [piece]
        return asked

    def _each_machine(self, piece: str) -> list[str]:
        """One question about two machines ("are 7 and 8 free") asked once for each: "are 7
        free", "are 8 free". Never a problem (one report, not two), never two real machines
        that do not exist."""
        low = plain(piece)
        pair = self.cues.machine_pair.search(low)
        read = self.cues.text(low)
        if pair is None or (
            self.cues.problem.search(read) and not self.cues.asks_broken.search(read)
        ):
            return [piece]
        second = low[: pair.start("a")] + low[pair.start("b") :]
        if "kb" in pair.re.groupindex and pair.group("kb"):
            # "how long left on washer 5 and dryer 13": the second of its own kind.
            kind = _KIND_BEFORE.search(low[: pair.start("a")])
            if kind is None:
                return [piece]
            second = low[: kind.start()] + low[pair.start("kb") :]
        asked = [low[: pair.end("a")] + low[pair.end("b") :], second]
        # "are washers 7 and 8 both busy": "are washer 7 busy", each of one machine.
        asked = [self.cues.of_two.sub("", each) for each in asked]
        for each in asked:
            norm = self.normalize(each)
            number = norm.machine.number if norm.machine else None
            if number is None:
                number = self.cues.bare_number(norm.words)
            if number not in self.by_number:
                return [piece]
        return asked

    def _main_clause(self, piece: str) -> str | None:
        """A request put with a condition ("can I add more time if they're still wet"): the
        request, when it is a yes/no question of its own about a plain topic with no problem
        in it (not a policy: "can I get a refund if it ate my money" stays what it is)."""
        cues, text = self.cues, plain(piece)
        said = cues.condition.search(text)
        if said is None:
            return None
        head = (text[: said.start()] + " " + text[said.end() :]).strip()
        read = cues.text(head)
        if not head or not cues.yes_no.search(read) or cues.problem.search(read):
            return None
        condition = cues.text(said.group(0))
        if any(p.search(condition) for p, _ in cues.items):
            return None  # the condition names a topic of its own: kept whole
        if cues.says_moment.search(condition) or days_asked(
            self.normalize(condition).words, _EPOCH
        ):
            return None  # "if I come at midnight, ...": the time is the question's
        if cues.money_given(condition) is not None or cues.minutes_wanted(condition) is not None:
            return None  # "if I have $5, is that enough for a large": the money is the question's
        told = self._rank(self.normalize(condition))
        if told and told[0][0] in ("payment-problem", "money-taken", "refunds"):
            return None  # "if the coins don't register, should I put more in": that problem
        ranked = self._rank(self.normalize(head))
        if not ranked or ranked[0][1] < THRESHOLD:
            return None
        topic = ranked[0][0]
        if topic in ESCALATIONS or topic in POLICIES or topic in POLICIES.values():
            return None
        if topic in ("fallback", "greeting", "thanks"):
            return None
        return head

    def _told_then_what_now(self, low: str) -> str | None:
        """What was told before a piece's last words asking what to do now ("washer 2 is
        leaking, what do I do", "...새는데 어떻게 해요"); None when it does not end so."""
        starts = [i for i in range(1, len(low)) if low[i - 1] == " " or not low[i].isascii()]
        return next((low[:i] for i in starts if self.cues.what_now.search(low[i:])), None)

    def _asks_read(self, low: str) -> bool:
        """Whether a piece is put as a question (not a statement of what happened)."""
        cues = self.cues
        if cues.yes_no.search(low) or cues.when.search(low) or cues.asks.search(low):
            return True
        # Typed with a slip ("hw much is it"): as the speller reads it.
        return bool(cues.asks.search(" ".join(self.normalize(low).words)))

    def _answer_one(
        self,
        piece: str,
        machines: Mapping[int, MachineStatus],
        local: datetime.datetime,
        st: DialogueState,
        joined: bool = False,
        supposed: bool = False,
    ) -> Answer:
        cues = self.cues
        head = self._main_clause(piece)
        if head is not None:  # "can I add time if they're still wet": the request
            return self._answer_one(head, machines, local, st, joined, supposed=False)
        low = cues.text(plain(piece))
        norm = self._sizes_read(self._expected_machine(piece, st) or self.normalize(piece), low, st)
        ranked = self._asked_ranked(piece, norm, low)
        best, score = ranked[0] if ranked else ("fallback", 0.0)
        number = norm.machine.number if norm.machine else None
        bare = cues.bare_number(norm.words) if number is None else None
        said = number if number is not None else bare
        other, number = self._the_other(norm, number, bare, st, low)
        if other is not norm:  # "the other one" said: ranked on what else is asked
            norm, ranked = other, self._rank(other)
            best, score = ranked[0] if ranked else ("fallback", 0.0)
        if (
            (
                (best in ("machine-info", "prices") and cues.asks_duration.search(low))
                # "what's the cycle time on the large washer": no staff on at a time
                or (best in ("staff-contact", "hours", "machine-info") and "cycle" in norm.words)
            )
            and number is None
            and bare is None
            # "how long till it's done", "how long left on it": a machine's time left
            and not cues.asks_busy.search(low)
            and not {"left", "done", "till", "until", "finish", "finished"} & set(norm.words)
            and not (st.machine is not None and _BACK & set(norm.words))
        ):
            # "how long for the large washer": a time asked, however like "which washer for
            # a comforter" or "how much for" its words are, when cycle times are as near.
            near = next((sc for i, sc in ranked[:3] if i == "cycle-times"), None)
            if near is not None and ("cycle" in norm.words or near >= score - CLOSE_RANKS):
                best, score = "cycle-times", max(near, THRESHOLD)
        follow = bool(cues.follow_up.search(low)) or (joined and self._topicless(norm))
        unstated = self._unstated(low)
        # "can I smoke in here": leave asked for an act, not a problem told; "a no heat
        # option" asks a setting, not a dryer that does not heat.
        setless = low if unstated is None else low.replace(unstated[0].group(0), " ")
        problem = bool(cues.problem.search(setless)) and not self._own_act(low)
        cont = Context(st=st, local=local, machines=machines, low=low)

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

        weighed = None if problem or said is not None else self._weight_priced(low, st, ranked)
        if weighed is not None:  # "I'd have about 40 pounds, how much is that": at the rate
            return self._respond(weighed[0], norm, None, **cont, text=weighed[1], score=THRESHOLD)

        # "for how long" after "there's parking for up to two hours": the last answer says it.
        told = self._told_before(norm, ranked, said, problem, st, low)
        if told is None and said is None and not problem:
            told = self._confirmed_before(norm, st, low)  # "is it free" after parking: yes
        if told is not None and st.intent is not None:
            return self._respond(st.intent, norm, None, **cont, text=told, score=0.6)

        reported = st.report is not None or st.intent in ESCALATIONS
        again = (self._asks(low) and cues.more_money.search(low)) or (
            cues.use_anyway.search(low) and not cues.other.search(low)
        )
        if reported and said is None and again:
            # "should I put more money in to try again?", "should I keep using it" once it is
            # reported: no, and keep clear of it.
            broken = self.knowledge.machine_broken
            text = self.cues.no + broken[:1].lower() + broken[1:]
            return self._respond("problem-help", norm, None, **cont, text=text, score=THRESHOLD)
        if reported and said is None and not problem and cues.what_now.search(low):
            # "what should I do now" once it is reported: what to do about that problem.
            kind = st.report.kind if st.report is not None else st.intent
            if kind == "money-taken":
                return self._respond("refunds", norm, None, **cont, score=THRESHOLD)
            text = f"{self.knowledge.machine_broken} {self._urgent()}"
            return self._respond("problem-help", norm, None, **cont, text=text, score=THRESHOLD)
        if (
            st.report is not None
            and st.report.kind == "money-taken"
            and number_free(norm)
            and not problem
            and (cues.when.search(low) or cues.asks_duration.search(low))
            and "refunds" in [i for i, _ in ranked[:3]]
            and (score < THRESHOLD or best in ("machine-status", "cycle-times", "refunds"))
        ):
            # "how long till I get it back" once money taken is reported: the refund, not the
            # machine's time left (a sum said is no machine: "I put in three fifty, when ...").
            return self._respond("refunds", norm, None, **cont, score=THRESHOLD)
        if (
            reported
            and said is None
            and not problem
            and self._asks(low)
            and ranked
            and ranked[0][0] == "staff-contact"
            and (
                ranked[0][1] >= CLARIFY_FLOOR
                # "what's their number" once a person is asked for: the staff's phone
                or (
                    "call-staff" in (st.intent, st.report.kind if st.report else None)
                    and {"number", "phone"} & set(norm.features)
                    and number_free(norm)
                )
            )
        ):
            # "what's their number" once staff are asked for: the staff phone, however weakly
            # the words match it.
            best, score = "staff-contact", max(score, THRESHOLD)
            return self._respond(best, norm, None, **cont, score=score)

        if (
            st.intent is not None
            and ranked
            and ranked[0][0] == st.intent
            and CLARIFY_FLOOR <= score < THRESHOLD
            and said is None
            and not problem
            and st.intent not in ESCALATIONS
            and (follow or {"one", "ones"} & set(norm.words))
        ):
            # "how does the phone one work" after the ways to pay: one of those the last answer
            # named, its topic however weakly the words match it, when still the likeliest.
            score = THRESHOLD

        # Items one word of which would mislead the classifier ("dryer sheets").
        item = None
        for pattern, intent in cues.items:
            if intent in self.known_intents and pattern.search(low):
                item = intent
                if not problem:
                    best, score = intent, max(score, 0.6)
                break

        kinds = set(norm.kinds)
        if norm.machine and norm.machine.kind:
            kinds.add(norm.machine.kind)
        if best in ("how-to-wash", "how-to-dry") and len(kinds) == 1:
            best = "how-to-dry" if "dryer" in kinds else "how-to-wash"  # "first time, the dryer"
        top_two = [i for i, _ in ranked[:2]]
        if "payment-problem" in top_two and not problem and item != "payment-problem":
            # A payment problem needs a problem stated: "결제는 뭘로 해요" asks how to pay,
            # whichever of the two it is more like.
            plain_topics = [
                (i, sc) for i, sc in ranked if i not in ESCALATIONS and i != "payment-problem"
            ]
            if plain_topics and plain_topics[0][1] >= CLARIFY_FLOOR and best in top_two:
                best, score = plain_topics[0][0], max(plain_topics[0][1], THRESHOLD)

        if unstated is not None and not problem and (self._asks(low) or self._yes_no(low)):
            # "do you price match", "how many pounds does the giant one take": not known;
            # what is known instead (its loads), in a sentence.
            topic = unstated[1] or best
            if (
                topic in ESCALATIONS
                or topic in ("fallback", "greeting", "thanks")
                or (not unstated[1] and score < THRESHOLD)
            ):
                return self._decline(norm, "dont_know", **cont)
            known = self._respond(topic, norm, number, **cont, score=score)
            instead = self._known_instead(known.text, norm)
            if not instead:
                return self._decline(norm, "dont_know", **cont)
            text = self.say("dont_know_but", known=instead)
            return dataclasses.replace(
                known, text=text, intent="fallback", source="fallback", expression="thinking"
            )

        # Requests the shop does not serve: never a report, a plain "I can't do that" (unless
        # it is an aside in a question of ours: "can I leave my wash and go get coffee"); one
        # asked of an owner's service ("do you deliver the wash and fold") is declined too.
        if (
            cues.out_of_scope.search(low)
            and not problem
            and (item is None or item in self.faq_text)
        ):
            return self._decline(norm, "cant_do", **cont)

        # Another business ("when does the Corner Market close", "a mcdonalds nearby"): not
        # something the attendant knows, unless the owner's texts answer it.
        owners = [
            sc for i, sc in ranked if i.startswith(("faq:", "rule:")) or i == "address"
        ]  # fmt: skip
        place = next((name for said, name in self.places.items() if said in low), None)
        if not problem and not (owners and owners[0] >= THRESHOLD and owners[0] == score):
            if place is not None and best != "fallback":
                return self._decline(norm, "other_place", **cont, place=f"the {place.title()}")
            if cues.elsewhere.search(low) and not (owners and owners[0] >= CLARIFY_FLOOR):
                return self._decline(norm, "places_nearby", **cont)

        # A follow-up without a topic of its own takes the last one ("and drying?").
        topicless = self._topicless(norm)
        if number is not None and score < THRESHOLD and cues.yes_no.search(low) and not topicless:
            # "ok, and is dryer 9 open" after cycle times: a yes/no about a named machine with
            # no topic the examples know asks for its state, not the last topic.
            best, score = "machine-status", MACHINE_CONFIDENCE
        elif (
            number is not None
            and best == "cycle-times"
            and cues.yes_no.search(low)
            and cues.asks_busy.search(low)
            and not cues.asks_duration.search(low)
        ):
            # "is washer 4 running?": its state, not how long a wash runs.
            best, score = "machine-status", max(score, MACHINE_CONFIDENCE)
        elif (
            # "..., and when can I call"; "when do they pick up" after the staff phone
            (
                follow
                or (joined and cues.calls.search(low))
                or (st.intent == "staff-contact" and cues.calls.search(low))
            )
            and st.intent in ("hours", "staff-contact")
            and cues.when.search(low)
            and number is None
            and not norm.kinds
            and (
                best not in ("hours", "staff-contact")
                or (st.intent == "staff-contact" and bool(cues.calls.search(low)))
            )
        ):
            # "and when do they leave" after staff hours: still staff hours, whatever "leave"
            # is like.
            best, score = st.intent, max(score, 0.5)
        elif (
            (
                score < THRESHOLD
                or ((cues.person.search(low) or best == "call-staff") and self._asks(low))
            )
            and number is None
            and not problem
            and not cues.urgent.search(low)
            and (
                cues.hour_asked(low) is not None
                or days_asked(norm.words, local)
                # "are any staff in today": whether they are in now
                or ("today" in norm.words and self._asks(low))
                # "will staff be there" after a day asked about: then
                or (st.day is not None and len(norm.words) <= 5 and self._asks(low))
            )
            and (st.intent == "staff-contact" or cues.asks_staff.search(low))
        ):
            # "can I talk to a real person monday at 7 am": a person then, not now.
            # "will anyone be around thursday at 7", "even at like 2am?" after the staff
            # phone: whether staff are in then.
            best, score = "staff-contact", THRESHOLD
        elif (
            best in ("free-machines", "machine-status", "fallback")
            and number is None
            and not norm.kinds
            and not problem
            and cues.asks_staff.search(low)
            and cues.yes_no.search(low)
            and not cues.person.search(low)
        ):
            # "are staff around right now": whether they are in, however like a free machine
            # ("around", "right now") the words are.
            best, score = "staff-contact", max(score, THRESHOLD)
        elif (
            (topicless or follow or len(norm.words) <= 3)
            and st.intent == "staff-contact"
            and (best in ("hours", "staff-contact", "fallback") or score < THRESHOLD)
            and (
                any(w in DAY_WORDS or w.startswith("week") for w in norm.words)
                or cues.hour_asked(low) is not None
                or NIGHT_WORDS.intersection(norm.words)
            )
        ):
            # "tuesday?", "what about at 11 at night" after staff hours: staff then, not the
            # shop's hours.
            best, score = st.intent, max(score, THRESHOLD)
        elif (
            follow
            and st.intent in ("payment", "detergent", "hours", "staff-contact")
            and score < STATED_PROBLEM
            and number is None
            and not problem
        ):
            # "can I use it on the dryers too" after the loyalty card: still paying, whatever
            # a machine word in it is like.
            best, score = st.intent, max(score, THRESHOLD)
        elif (
            st.intent
            # "the large one?": the last topic's, unless a size is asked ("how big is it", "...
            # and what size is it")
            and (
                score < THRESHOLD
                or (
                    topicless
                    and (follow or "size" not in norm.features)
                    and not (best == "machine-info" and "size" in norm.features)
                )
            )
            and (topicless or follow or said is not None)
        ):
            if follow and self._names_other_owned(norm, best, score, st.intent):
                # "and is the parking lot free too" after the wifi: a thing only another
                # owner's topic names is that topic, however weakly, not the last one.
                score = max(score, THRESHOLD)
            else:
                best, score = self._carried(st.intent, norm), max(score, 0.5)

        if (
            (best == "staff-contact" or (best == "hours" and score < THRESHOLD))
            and not problem
            and cues.shop_opens.search(low)
            and not cues.asks_staff.search(low)
            and not cues.person.search(low)
            and not cues.calls.search(low)
        ):
            # "what time do you open in the morning": the shop's hours, however like the
            # staff's mornings its words are; "when do you close today", however weakly.
            best, score = "hours", max(score, THRESHOLD)
        if (
            best in ("how-to-wash", "how-to-dry", "cycle-times", "fallback")
            and number is None
            and not problem
            and cues.asks_latest.search(low)
            and not cues.asks_staff.search(low)
            and not cues.asks_duration.search(low)
        ):
            # "how late can I start a load": the latest time to do it is the shop's hours (and
            # their note), not how it is done.
            best, score = "hours", max(score, THRESHOLD)
        if (
            number is None
            and bare is None
            and not problem
            and cues.asks_soonest.search(low)
            and best not in ESCALATIONS
        ):
            # "which one finishes first": the free machines, or the one ending soonest (of the
            # kind talked about, if none is named).
            best, score = "free-machines", max(score, THRESHOLD)
            if not norm.kinds and norm.machine is None and st.kind is not None:
                # "which of the two finishes first" after the giant washers: of that size too.
                sized = st.size is not None and not set(norm.words) & set(self.sizes_by_word)
                words = (*norm.words, st.size) if sized and st.size else norm.words
                norm = dataclasses.replace(
                    norm,
                    words=words,
                    kinds=frozenset({st.kind}),
                    machine=MachineRef(st.kind, None),
                )
        if number is None and (
            score < THRESHOLD or best in ("machine-info", "fallback", "free-machines")
        ):
            thing = None if problem else self._thing_placed(norm, low)
            if thing is not None:  # "where's the vending machine": where the owner says it is
                return self._respond(thing[0], norm, None, **cont, text=thing[1], score=THRESHOLD)
        had = None if problem or number is not None else self._thing_had(best, score, norm, low)
        if had is not None:  # "is there a folding table": the owner's sentence that names one
            return self._respond(had[0], norm, None, **cont, text=had[1], score=THRESHOLD)
        # "is 6 the big kind": a bare number of a real machine is that machine's size asked.
        sized = any(w in self.sizes_by_word for w in norm.words)
        real_bare = bare if number is None and bare in self.by_number and sized else None
        best, score = self._where_machine(
            best, score, norm, number if real_bare is None else real_bare, st, low
        )
        if (
            best == "machine-info"
            and number is None
            and st.machine is not None
            and not norm.kinds
            and cues.yes_no.search(low)
            and ({"it", "that", "this"} & set(norm.words) or len(norm.features) <= 1)
        ):
            number = st.machine  # "is that one of the big ones" after dryer 12: dryer 12's size
        if (
            best in ("fallback", "machine-info", "prices", "cycle-times")
            and not problem
            and "washer" not in norm.kinds
            and ("dryer" in norm.kinds or "dry" in norm.features)
            and (cues.money_given(low) is not None or cues.minutes_wanted(low) is not None)
        ):
            # "how long does a quarter last in the dryer", "what do the big dryers give you
            # for a dollar": drying time for money, or money for a time, worked out.
            best, score = "cycle-times", max(score, THRESHOLD)
        if (
            best not in ESCALATIONS
            and not problem
            and number is None
            and "dryer" not in norm.kinds
            and (
                (cues.money_given(low) is not None and cues.asks_enough.search(low))
                or (
                    cues.asks_coins.search(low)
                    and ("washer" in norm.kinds or any(w in self.sizes_by_word for w in norm.words))
                )
            )
        ):
            # "is five bucks enough for a large", "how many quarters is the giant": the wash
            # prices against the money said, or counted in quarters.
            best, score = "prices", max(score, THRESHOLD)
        elif (
            best in ("fallback", "cycle-times", "machine-info", "prices")
            and not problem
            and number is None
            and not norm.kinds - {"washer"}
            and cues.yes_no.search(low)
            and cues.money_given(low) is not None
            and cues.minutes_wanted(low) is None
            and cues.load_count(low) is None
            and any(s.kind == "washer" for w in norm.words for s in self.sizes_by_word.get(w, []))
        ):
            # "is the giant eight dollars or nine": a wash price guessed, its price said.
            best, score = "prices", max(score, THRESHOLD)
        if (
            (self.size_words.intersection(norm.features) or cues.load_count(low) is not None)
            and not problem
            and (
                score < THRESHOLD
                or (best == "free-machines" and not {"free", "available"} & set(norm.features))
                or (  # "does the giant washer hold eight loads": what it holds, not its price
                    best in ("prices", "cycle-times")
                    and (
                        cues.load_count(low) is not None
                        or self.size_words.intersection(norm.features)  # "take a comforter"
                    )
                    and cues.yes_no.search(low)
                    and not cues.asks_price.search(low)
                    and not cues.asks_duration.search(low)
                    and "price" not in norm.features
                )
            )
        ):
            # "can I put a comforter in it?", "which washer for a king comforter": a word only
            # a size's description has (which machine fits it, not which is free).
            best, score = "machine-info", max(score, THRESHOLD)
        if (
            cues.compares.search(low)
            and not cues.asks_soonest.search(low)  # "어떤 게 제일 빨리 끝나요": which ends first
            and not problem
            and number is None
            and (
                (best in _COMPARED and (norm.kinds or best != "fallback"))
                or (  # "is the giant one worth paying for": a size named, whatever the topic
                    any(w in self.sizes_by_word for w in norm.words)
                    and best not in ESCALATIONS
                    and not best.startswith(("faq:", "rule:"))
                )
            )
        ):
            # "which dryer gives more time per quarter", "is the big washer worth it": the
            # sizes of the kind side by side.
            compared = self._comparison(norm, st, low)
            if compared is not None:
                answer = self._respond("prices", norm, None, **cont, text=compared, score=0.6)
                # "is it worth it over the large": the talk stays on the size it was about.
                kept = dataclasses.replace(answer.state, size=st.size or answer.state.size)
                return dataclasses.replace(answer, state=kept)
        if cues.asks_identity.search(low) and not problem and not cues.person.search(low):
            text = self.say("identity", shop=self.knowledge.shop_name)  # "are you a robot"
            return self._respond("greeting", norm, None, **cont, text=text, score=THRESHOLD)
        if cues.asks_name.search(low) and best in _NAMELESS and not problem:
            if cues.asks_staff.search(low) or cues.person.search(low):
                return self._decline(norm, "dont_know", **cont)  # a person's name: not known
            best, score = "address", max(score, THRESHOLD)  # the shop's name, and where it is
        if (
            best
            in ("free-machines", "fallback", "address", "machine-status", "cycle-times", "prices")
            and number is None
            and not problem
            and not follow
            and cues.asks.search(low)
            and not {"free", "available", "busy"} & set(norm.features)
            and not cues.asks_price.search(low)
            and not cues.asks_duration.search(low)
            and any(m.location and place_named(m.location, low) for m in self.knowledge.machines)
        ):
            best, score = "machine-info", max(score, THRESHOLD)  # "which are the ones at the back"
        if (
            # "is either one free" after the giant washers: pointing back at them by itself
            # "is one free" after a size was said ("what size for 3 loads": the large)
            (
                joined
                or follow
                or (
                    len(norm.words) <= 7
                    and ("either" in norm.words or (st.size is not None and "one" in norm.words))
                )
            )
            and number is None
            and not problem
            and {"one", "any", "either"} & set(norm.words)
            and ("free" in norm.features or "available" in norm.features)
            and (st.kind is not None or st.size is not None)
            and not norm.kinds
        ):
            # "how much for the giant and is one free now": a free one of that size.
            best, score = "free-machines", max(score, THRESHOLD)
            if st.size is not None and not set(norm.words) & set(self.sizes_by_word):
                of = frozenset({st.kind}) if st.kind else norm.kinds
                norm = dataclasses.replace(norm, words=(*norm.words, st.size), kinds=of)
        if (
            number is None
            and bare is None
            and not problem
            and any(w in self.sizes_by_word for w in norm.words)
            and ({"free", "available", "open"} & set(norm.features) or cues.asks_busy.search(low))
            and self._asks(low)
            and not cues.asks_price.search(low)
            and not cues.asks_duration.search(low)
            and best in _BOARD_ASKED
        ):
            # "is either giant washer free", "are the big dryers in use": the machines of that
            # size, not its price.
            best, score = "free-machines", max(score, THRESHOLD)
        if (
            best in ("hours", "free-machines")
            and joined
            and number is None
            and st.machine is not None
            and {"it", "that", "one"} & set(norm.words)
            and not days_asked(norm.words, local)
        ):
            # "how big is washer 6 and is it open": whether the machine is free.
            best, number = "machine-status", st.machine
        if (
            best == "cycle-times"
            and cues.asks_price.search(low)
            and not cues.asks_duration.search(low)
            and not {"time", "minute", "long", "hour"} & set(norm.features)
            and cues.money_given(low) is None
        ):
            best = "prices"  # "how much is the large one": its price, not its minutes
        if (
            best in ("how-to-wash", "how-to-dry")
            and cues.asks_price.search(low)
            and {"time", "minute", "add"} & set(norm.features)
            and not problem
        ):
            best = "prices"  # "how much to add more time": what the time costs, not the step
        if best == "machine-info" and (
            "price" in norm.features
            or (cues.asks_price.search(low) and cues.load_count(low) is not None and not problem)
        ):
            # "what's a regular size wash cost", "how much is the four-load one" (the loads
            # name the size): its price, not its size.
            best = "prices"

        # Numbers: a machine number makes a generic question one about that machine, and a
        # bare number names a machine when the talk is about machines ("is 6 free").
        if number is None and bare is not None:
            machine_talk = best in USES_MACHINE or st.machine is not None or follow
            # A problem told of a number ("16 smells like something is burning"): its machine.
            # So is a problem on a number ("the screen on 7 says error").
            at = norm.words.index(str(bare)) if str(bare) in norm.words else -1
            opens = problem and (at == 0 or (at > 0 and norm.words[at - 1] in cues.on_machine))
            if (
                opens
                or machine_talk
                or TIME_WORDS.intersection(norm.words)
                or cues.asks_busy.search(low)
                or cues.asks_working.search(low)
                or "free" in low
            ):
                number = bare
        if number is not None and best in (
            "fallback", "free-machines", "greeting", "thanks", "how-to-wash", "how-to-dry",
            "staff-contact", "hours",
        ):  # fmt: skip  # "can i use number 6 rn", "is washer 5 open": its state
            best = "machine-status"
        if (
            number is not None
            and best in ("machine-info", "prices")
            and cues.yes_no.search(low)
            and not cues.asks_price.search(low)
            and ({"free", "available"} & set(norm.features) or cues.asks_busy.search(low))
            and not cues.asks_count.search(low)
        ):
            best = "machine-status"  # "is the big washer, number 5, free": its state, not size
        if (
            number is not None
            and best == "machine-info"
            and self._referential(norm)
            and not cues.asks.search(low)
            and not any(w in self.sizes_by_word for w in norm.words)  # "is it a big one"
            and not (follow and st.intent == "machine-info")  # "and number eight?": where
        ):
            best = "machine-status"  # nothing but a machine ("dryer 12?"): how it is doing
        if (
            number is not None
            and best in ("machine-status", "cycle-times", "free-machines")
            and "what" in norm.words
            and self._referential(norm)
            and not follow
            and not problem
            and not TIME_WORDS.intersection(norm.words)
        ):
            # "what's machine 13": what it is, not how it is doing
            best, score = "machine-info", max(score, MACHINE_CONFIDENCE)
        if number is not None and best == "machine-status":
            score = max(score, MACHINE_CONFIDENCE)
        if (
            number is None
            and best == "machine-status"
            and (
                any(w in self.sizes_by_word for w in norm.words)
                # "three regular washes, and how long till they're done": those just priced
                or (
                    joined
                    and st.intent == "prices"
                    and st.size is not None
                    and st.machine is None
                    and not norm.kinds
                )
            )
            and TIME_WORDS.intersection(norm.words)
            and not cues.asks_busy.search(low)
            and "free" not in norm.features
        ):
            # "if I start a giant load now, how long till it's done": a size's cycle time.
            best, score = "cycle-times", max(score, THRESHOLD)
        if (
            number is None
            and st.machine is None
            and best in ("cycle-times", "prices", "free-machines", "machine-status")
            and "my" in norm.words
            and (norm.kinds or norm.machine is not None)
            and {"left", "until", "done", "finished"} & set(norm.words)
        ):
            best = "machine-status"  # "how much longer on my dryer": which one is it?
        if (
            number is not None
            and best == "cycle-times"
            and (
                {"left", "until", "done"} & set(norm.words)
                or (self._running(machines, number) and not _CYCLE_WORDS & set(norm.words))
            )
        ):
            # "how long for washer 5" while it runs: the time left
            best, score = "machine-status", max(score, MACHINE_CONFIDENCE)

        # Reports only for real problems; a vague one asks which machine first.
        hypothetical = supposed or bool(cues.hypothetical.search(low))
        person = bool(cues.person.search(low)) and not (
            best == "staff-contact"
            and (cues.hour_asked(low) is not None or days_asked(norm.words, local))
        )
        vague = bool(cues.vague_problem.search(low))
        best, score = self._payment_kept(
            norm, best, score, number, item, problem, hypothetical, low
        )
        if (
            best == "money-taken"
            and problem
            and (score < STATED_PROBLEM or not self._asks(low))
            and not cues.money_lost.search(low)
        ):
            # "dryer 16 spins but it's ice cold", "dryer 11 won't start at all": a problem told,
            # and no money said to be kept (asked, "when is my refund" stays about money).
            best = "machine-broken"
        if person and not problem and not hypothetical and cues.urgent.search(low):
            best, score = "call-staff", max(score, THRESHOLD)  # someone hurt, however put
        elif (
            hypothetical
            and cues.not_dry.search(low)
            and not cues.problem.search(cues.not_dry.sub(" ", low))
        ):
            # "if my clothes are still damp when the dryer stops": more drying time, what a
            # dryer cycle is and that time can be added; not a machine's fault.
            best, score = "cycle-times", max(score, THRESHOLD)
        elif (
            best in ESCALATIONS
            and best != "call-staff"
            and cues.asks_broken.search(low)
            and not cues.money_lost.search(low)
        ):
            # "is washer 4 broken?": asked, not told; its state answers it (what to do about
            # a broken one, for a thing without a number: "is the change machine broken?").
            if number is not None:
                best, score = "machine-status", max(score, MACHINE_CONFIDENCE)
            else:
                best, score = "problem-help", max(score, THRESHOLD)
        elif (
            best in POLICIES
            and number is None
            and (
                cues.when.search(low)
                or cues.asks_duration.search(low)
                or (st.report is not None and self._asks(low))
            )
        ):
            # "when do I get my refund?", or how, once reported: how the shop handles it,
            # not a second report.
            best, score = POLICIES[best], max(score, THRESHOLD)
        elif (
            (best in POLICIES or best in POLICIES.values())
            and problem
            and number is not None
            and not supposed
            and not cues.asks_broken.search(low)
            and (told := self._told_then_what_now(low)) is not None
            and cues.problem.search(told)
            and not cues.hypothetical.search(told)
        ):
            # "washer 2 is leaking all over, what do I do": a problem told of a machine named,
            # and what to do asked after it: the report, whose answer says what to do.
            money = bool(cues.money_lost.search(low))
            best = "money-taken" if money else "machine-broken"
            score = max(score, THRESHOLD)
        elif best in POLICIES.values() and not (
            (problem or person) and not hypothetical and not self._asks(low)
        ):
            if hypothetical and problem:
                score = max(score, THRESHOLD)  # "what do I do if a dryer starts leaking"
        elif (
            hypothetical
            and (best in ESCALATIONS or problem or (score < THRESHOLD and vague))
            and best != "payment-problem"  # "what if the coins don't register": its advice
        ):
            # A problem that has not happened: what to do about it, never a report.
            # The likeliest policy, asked itself ("can I get the refund on my card") or by the
            # problem it is about; money back asked ("if a dryer doesn't heat do I get my
            # money back"): refunds.
            policies = {**POLICIES, **{p: p for p in POLICIES.values()}}
            policy = next((policies[i] for i, _ in ranked if i in policies), "problem-help")
            if "refund" in norm.features or any(
                i == "refunds" and sc >= THRESHOLD for i, sc in ranked
            ):
                policy = "refunds"
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
            # "dryer 13 not free": whether a machine is free, told, is its status, not a fault.
            and not (not problem and {"free", "available"} & set(norm.features))
        ):
            pass  # told like a problem the examples know, and not asked: a problem
        elif person and not problem and not self._asks(low) and best in ESCALATIONS:
            best = "call-staff"  # someone hurt, or a person asked for: not a machine's fault
        elif best in ESCALATIONS and not (problem or (best == "call-staff" and person)):
            others = [(i, sc) for i, sc in ranked if i not in ESCALATIONS]
            if number is not None:
                best, score = "machine-status", max(score, MACHINE_CONFIDENCE)
            elif others and others[0][1] >= THRESHOLD:
                best, score = others[0]
            else:
                best, score = "fallback", 0.0
        elif (
            (problem or person)
            and best not in ESCALATIONS
            and (best != "payment-problem" or score < THRESHOLD)  # "it quit halfway"
            and not self._owners_thing(best, score, norm, number, low)
            and not (cues.asks_broken.search(low) and not cues.money_lost.search(low))
        ):
            # Money taken only when money is said to be; a danger with no machine named is
            # for a person ("my kid is locked in the car").
            money = bool(cues.money_lost.search(low))
            escalations = [
                i for i, _ in ranked if i in ESCALATIONS and (money or i != "money-taken")
            ]
            machine_named = number is not None or bool(norm.kinds) or norm.machine is not None
            if (person and not problem) or (cues.urgent.search(low) and not machine_named):
                best = "call-staff"  # someone hurt or a person asked for, no machine problem
            else:
                best = escalations[0] if escalations else "machine-broken"
                if money:
                    best = "money-taken"  # "we need a refund please": money a machine kept
            score = max(score, THRESHOLD)

        if (
            best in ("prices", "payment")
            and item is None
            and number is None
            and not problem
            and cues.asks_price.search(low)
            and not norm.kinds
            and not any(w in self.sizes_by_word for w in norm.words)
            and "pay" not in norm.features
            and self.unpriced.intersection(norm.features)
        ):
            # "how much does the loyalty card cost": the shop's facts give it no price.
            return self._decline(norm, "dont_know", **cont)
        if cues.per_person.search(low) and not problem and said is None:
            return self._decline(norm, "dont_know", **cont)  # a per-customer limit: not given
        # "what about stain remover" after what the shop sells; not "what else is in that".
        after_sales = follow and st.intent == "detergent" and not _BACK & set(norm.words)
        lead = cues.follow_up.search(low)  # "what else do you have": no thing named
        said_lead = frozenset(self.normalize(lead.group(0)).features) if lead else frozenset()
        if (
            self._not_sold(best, norm, after_sales, said_lead) or self._not_covered(best, norm)
        ) and not problem:
            return self._decline(norm, "dont_know", **cont)
        if best == "staff-contact" and cues.holiday.search(low) and not problem:
            # "is anyone here on christmas": the staff hours are per weekday; none is known
            # for a holiday.
            text = self.say("holiday_staff", phone=self.knowledge.staff_phone)
            return self._respond(best, norm, None, **cont, text=text, score=score)
        placed = None
        if best in ("how-to-wash", "how-to-dry", "detergent", "fallback") or score < THRESHOLD:
            placed = None if problem else self._step_placed(norm, low)
        if placed is not None:
            return self._respond(placed[0], norm, None, **cont, text=placed[1], score=THRESHOLD)
        anew = joined and score >= WEAK and bool(cues.asks.search(low))  # "..., and where do"
        if best != "fallback" and score < THRESHOLD and best not in ESCALATIONS and not anew:
            best = "fallback"
        if best == "fallback":
            likeliest = [i for i, sc in ranked[:2] if sc >= CLARIFY_FLOOR]
            if st.intent in likeliest and st.intent not in ESCALATIONS and len(norm.words) <= 5:
                # "till when" after staff hours on Sunday: unsure between two topics, one of
                # them the one being talked about.
                return self._respond(st.intent, norm, number, **cont, score=THRESHOLD)
            return self._unsure(norm, ranked, **cont)
        if best in ESCALATIONS:
            if number is None and best != "call-staff":
                number = self._machine_in_talk(norm, st)
            urgent = bool(cues.urgent.search(low)) or person
            if number is None and best != "call-staff" and not urgent:
                return self._ask_machine(norm, best, **cont)
            if (
                st.report is not None
                and (
                    st.report.kind == best
                    # Staff called, now told which machine it was about ("it's washer 2, it
                    # won't drain", "she cut her hand on washer 4": the urgent reason for the
                    # call); a problem told afresh ("washer 5 is broken") is its own.
                    or (
                        st.report.kind == "call-staff"
                        and (
                            bool(cues.it.search(low) or cues.urgent.search(low))
                            or len(norm.words) <= 3
                        )
                    )
                )
                and st.report.machine is None
                and number is not None
            ):
                return self._report_update(norm, number, **cont)  # the same problem, now placed
            return self._file(norm, number, best, score, **cont)
        return self._respond(best, norm, number, **cont, score=score)

    def _comparison(self, norm: Normalized, st: DialogueState, low: str) -> str | None:
        """The sizes of the kind asked about (the one named, else the one talked about, else
        washers), side by side: each washer's price and what it holds; each dryer's minutes
        for its price. Two washers weighed by price or time get the difference too."""
        kinds = set(norm.kinds)
        if norm.machine is not None and norm.machine.kind is not None:
            kinds.add(norm.machine.kind)
        if not kinds:
            of_sizes = {s.kind for w in norm.words for s in self.sizes_by_word.get(w, [])}
            kinds = of_sizes if len(of_sizes) == 1 else {st.kind or "washer"}
        if len(kinds) != 1:
            return None
        kind = next(iter(kinds))
        sizes = list(self.knowledge.sizes(kind))
        named = [s for s in sizes if s.name in norm.words]
        sizes = named if len(named) >= 2 else sizes  # "the large and the giant": those two
        if len(sizes) < 2:
            return None
        say = self.say
        if len({s.price for s in sizes}) == 1 and kind == "dryer":
            # "is the big dryer cheaper than the standard": the same price, for its minutes.
            items = say.join_and(
                say("price_dry_item", money=say.money(s.price), minutes=s.minutes, size=s.name)
                for s in sizes
            )
            return say("same_price", items=items)
        if kind == "dryer":
            return self._price_sentence(sizes)
        told = [
            say(
                "compare_wash_item",
                description=cap(s.description),
                money=say.money(s.price),
                minutes=s.minutes,
            )
            for s in sizes
        ]
        if len(sizes) == 2:
            told += self._difference(sizes[0], sizes[1], low)
        return " ".join(told)

    def _difference(self, a: SizeInfo, b: SizeInfo, low: str) -> list[str]:
        """What one washer size saves over the other, when the question weighs them ("which
        is cheaper, the giant or the large, and by how much": the large, by $2.25)."""
        say, out = self.say, []
        kind = say.kinds[a.kind]
        if self.cues.asks_cheaper.search(low) and a.price != b.price:
            less, more = (a, b) if a.price < b.price else (b, a)
            money = say.money(more.price - less.price)
            out.append(cap(say("cheaper_by", size=less.name, kind=kind, money=money)))
        if self.cues.asks_faster.search(low) and a.minutes != b.minutes:
            fast, slow = (a, b) if a.minutes < b.minutes else (b, a)
            minutes = slow.minutes - fast.minutes
            out.append(cap(say("faster_by", size=fast.name, kind=kind, minutes=minutes)))
        return out

    def _size_feature(self, norm: Normalized) -> Normalized:
        """ "how big is washer 7": a size asked, not the big dryer; its features say "size"
        (in the examples and the questions alike)."""
        words = norm.words
        asked = {
            words[i]
            for i in range(1, len(words))
            if words[i - 1] == "how" and words[i] in self.sizes_by_word
        }
        if not asked:
            return norm
        features = tuple(
            "size" if f in asked else ("how_size" if f in {f"how_{w}" for w in asked} else f)
            for f in norm.features
        )
        return dataclasses.replace(norm, features=features)

    def _sizes_read(self, norm: Normalized, low: str, st: DialogueState) -> Normalized:
        """Size words as meant: "how big is it" asks a size and names none; "the biggest one"
        names the largest size of the kind talked about (washers if none), "the smallest" the
        least (by price, then as the knowledge file lists them, smallest first)."""
        norm = self._size_feature(norm)
        words = list(norm.words)
        for i in range(1, len(words)):
            if words[i - 1] == "how" and words[i] in self.sizes_by_word:
                words[i] = "size"
        largest, smallest = self.cues.largest.search(low), self.cues.smallest.search(low)
        kinds = set(norm.kinds)
        described = [self.described_sizes[f] for f in norm.features if f in self.described_sizes]
        if described and not largest and not smallest:
            # "a king comforter", "the stack dryers": a word only one size's description says
            # names that size (of its kind), unless another kind is named. A size name of
            # another kind is only an adjective then ("a big comforter" is not a big dryer).
            size = described[0]
            named = {s.kind for w in words for s in self.sizes_by_word.get(w, [])}
            if (not kinds or size.kind in kinds) and size.kind not in named:
                words = [w for w in words if w not in self.sizes_by_word] + [size.name]
                kinds.add(size.kind)
        if not kinds and st.kind is not None and norm.machine is None and len(words) <= 6:
            # "what about the big one" after a washer: the big dryer's place among the dryers
            # (the largest) is the washers' largest; a size name of another kind is relative.
            for i, w in enumerate(words):
                sizes = self.sizes_by_word.get(w, [])
                if not sizes or any(s.kind == st.kind for s in sizes):
                    continue
                other, mine = self.knowledge.sizes(sizes[0].kind), self.knowledge.sizes(st.kind)
                at = other.index(sizes[0])
                if mine and at in (0, len(other) - 1):
                    words[i] = (mine[0] if at == 0 else mine[-1]).name
        if number_free(norm) and not set(words) & set(self.sizes_by_word):
            # "the ones at the back": the machines of the place the owner gave them, when
            # they are all one size.
            placed = {
                (m.kind, m.size)
                for m in self.knowledge.machines
                if m.location and place_named(m.location, low)
            }
            if len(placed) == 1:
                place_kind, place_size = next(iter(placed))
                words.append(self.knowledge.size_info(place_kind, place_size).name)
                kinds.add(place_kind)
        loads = self.cues.load_count(low)
        if (
            loads is not None
            and self.washer_loads
            and not (largest or smallest)
            and kinds <= {"washer"}
            and not set(words) & set(self.sizes_by_word)
        ):
            # "six loads, what should I use": the washer that holds them (the biggest if none).
            fits = [s for n, s in self.washer_loads if n >= loads]
            words.append((fits[0] if fits else self.washer_loads[-1][1]).name)
            kinds.add("washer")
        if largest or smallest:
            said = norm.kinds or ({norm.machine.kind} if norm.machine else set())
            kind = next(iter(said), None) or st.kind or "washer"
            ranked = sorted(enumerate(self.knowledge.sizes(kind)), key=lambda e: (e[1].price, e[0]))
            if ranked:
                words.append(ranked[-1 if largest else 0][1].name)
        if words == list(norm.words):
            return norm
        return dataclasses.replace(norm, words=tuple(words), kinds=frozenset(kinds))

    def _expected_machine(self, piece: str, st: DialogueState) -> Normalized | None:
        """A short reply to "which machine?" read as a machine number where one fits ("for"
        heard for four, "the sixth"): the reply with a machine word before or after it."""
        if st.pending not in ("report-machine", "machine") or len(piece.split()) > 3:
            return None
        norm = self.normalize(piece)
        if norm.machine is not None and norm.machine.number is not None:
            return None
        word = self.say.kinds["machine"]
        for text in (f"{word} {piece}", f"{piece} {word}"):
            named = self.normalize(text)
            if named.machine is not None and named.machine.number is not None:
                return named
        return None

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
        turn = Turn(
            intent=intent,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=local,
            confidence=round(min(score, 1.0), 3),
            low=low,
            counted=bool(self.cues.asks_count.search(low))
            or (st.counted and intent == "machine-info" and self._topicless(norm)),
        )
        if text is not None:
            answer = self._reply(turn, text)
        elif intent in self.faq_text:
            answer = self._reply(turn, self._with_staff_day(self.faq_text[intent], turn, low))
        elif intent in self.rule_text:
            answer = self._reply(turn, self.rule_text[intent])
        else:
            answer = self.handlers[intent](turn)
        yes_no = self._yes_no(low) or (st.yes_no and self._bare_follow_up(low))
        spoken = self._shaped(answer, turn, low, yes_no=yes_no)
        pending: tuple[str, str] | None = None
        if intent in ("how-to-wash", "how-to-dry", "detergent") and text is None:
            if answer.text.endswith(self.say("more_steps")):  # the rest offered
                pending = ("steps", intent)
        elif answer.text == self.say.finish(self.say("which_machine")):
            pending = ("machine", "machine-status")
        focus = turn.machine
        if focus is None and answer.intent == "free-machines":
            focus = self._only_free(turn)  # "dryer 12 is free" - "how much is it"
        state = self._next_state(
            st, answer.intent, norm, focus, local, pending=pending, yes_no=yes_no
        )
        if turn.counted and answer.intent == "machine-info":
            state = dataclasses.replace(state, counted=True)
        return dataclasses.replace(answer, text=spoken, state=state)

    def _other_places(self) -> dict[str, str]:
        """Other businesses the owner's texts name ("the Corner Market next door"), lowercase:
        capitalised words after "the", not the shop's own name; as said (the name, or "the"
        and its last word: "the market next door") -> the name."""
        k = self.knowledge
        texts = [k.address, *self.faq_text.values(), *self.rule_text.values(), k.lost_and_found]
        found = re.findall(r"\b[Tt]he ((?:[A-Z][\w'&]+ )*[A-Z][\w'&]+)", "\n".join(texts))
        own = k.shop_name.lower()
        names = [n.lower() for n in found if n.lower() not in own]
        places = {n: n for n in names}
        for n in names:
            head = n.split()[-1]
            if " " in n and head not in own:
                places.setdefault(f"the {head}", n)
        return places

    def _mirror(self, phrase: str) -> str:
        """The same phrase about the other kind of machine ("washer 7 ate" -> "dryer 7 ate")."""
        return " ".join(self.language.mirror.get(word, word) for word in phrase.split())

    def _recognition_phrases(self, examples: list[tuple[str, str]]) -> tuple[str, ...]:
        k = self.knowledge
        texts = [phrase for _, phrase in examples] + list(k.quick_questions)
        pieces = getattr(self.normalizer, "surfaces", None)  # Korean: the model's word pieces
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


# Topics whose answers hold no name: a name asked with them is the shop's or a person's.
_NAMELESS = frozenset({"staff-contact", "hours", "address", "fallback", "rules", "call-staff"})
# Any moment: a condition is read for the days it names, never for "tomorrow".
# Words that refer back to the thing named before ("how do they work").
# The machine word before a number ("washer 5", "dryer #13"), at the end of what is read.
_KIND_BEFORE = re.compile(r"\b(washers?|dryers?|machines?)\s+(number\s+|#)?$")
_BACK = frozenset(["it", "they", "them", "that", "those", "its", "their"])
_EPOCH = datetime.datetime(2000, 1, 3, tzinfo=datetime.UTC)
# Topics a comparison of sizes is asked under ("which washer is better", "worth it?").
_COMPARED = frozenset(
    {"prices", "cycle-times", "machine-info", "how-to-dry", "how-to-wash", "free-machines",
     "machine-status", "fallback"}
)  # fmt: skip
# Topics a size's machines asked free ("are the large washers free") are read as, for the size.
_BOARD_ASKED = frozenset(
    {"prices", "cycle-times", "machine-info", "machine-status", "free-machines", "fallback",
     "hours"}
)  # fmt: skip
# Words that ask how long a cycle takes in general, not how long this one has left.
_CYCLE_WORDS = frozenset({"take", "takes", "cycle", "usually", "normally", "typically", "always"})


def _spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Where each of the pieces ``text`` was cut into stands in it (start, end), in order."""
    out, at = [], 0
    for piece in pieces:
        start = text.find(piece, at)
        if start < 0:  # never: the pieces are the text's own, in order
            start = at
        at = start + len(piece)
        out.append((start, at))
    return out


def number_free(norm: Normalized) -> bool:
    return norm.machine is None or norm.machine.number is None
