"""Readings of an utterance beyond its topic: what the classifier's pick is re-read as, by
rules a customer's other phrasings would hit too. A payment the machine kept is money taken;
"where is it" after a machine is that machine's own facts; "the other one" is the twin of the
machine talked about; "how long" or "how much" after an owner's text is the sentence of it that
says so; a word only a size's description holds asks about the sizes; an owner's text that
needs staff, asked for a day, gets that day's staff hours."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from decimal import Decimal

from laundrybot.dialog.facts import FactAnswers
from laundrybot.dialog.knowledge import MachineInfo, SizeInfo
from laundrybot.dialog.matching import THRESHOLD
from laundrybot.dialog.normalize import MachineRef, Normalized
from laundrybot.dialog.state import DialogueState
from laundrybot.dialog.turn import (
    DAY_WORDS,
    ENTITY_FEATURES,
    Turn,
    cap,
    days_asked,
    plain,
    sentences,
)
from laundrybot.machines.state import MachineState, MachineStatus

# Putting something somewhere (the Korean unit reads 넣 as "put").
_PUT_WORDS = frozenset({"put", "pour", "add", "go", "goes", "place", "load"})

# Buying and selling (the Korean unit reads 팔/사요 as "sell"/"buy").
_SELL_WORDS = frozenset({"sell", "buy", "have", "get", "vend", "purchase"})


# A thing asked about for the machines or the shop: "can I wash X", "is X allowed".
_ITEM_ASKED = frozenset({"wash", "dry", "put", "allow", "allowed"})
# Asking leave, not a thing asked about ("is it allowed", "can I bring").
_ASKING_WORDS = frozenset({"allow", "allowed", "ok", "okay", "fine", "inside", "here", "bring"})


def _amount(number: Decimal) -> str:
    """ "40", "12.5": a weight as said."""
    return str(number.normalize()) if number != number.to_integral_value() else str(int(number))


class Readings(FactAnswers):
    faq_text: dict[str, str]  # set up by Dialog.__init__, as the owner wrote them
    rule_text: dict[str, str]
    own_words: dict[str, frozenset[str]]
    common_words: frozenset[str]
    shop_words: frozenset[str]
    sold_words: frozenset[str]
    payment_words: frozenset[str]

    def _other_machine(self, number: int) -> MachineInfo | None:
        """ "The other one": the one other machine of the same kind, size and place."""
        machine = self.by_number.get(number)
        if machine is None:
            return None
        twins = [
            m
            for m in self.knowledge.machines
            if m.number != number
            and (m.kind, m.size, m.location) == (machine.kind, machine.size, machine.location)
        ]
        return twins[0] if len(twins) == 1 else None

    def _own_act(self, low: str) -> bool:
        """Leave asked for the asker's own act ("can I smoke in here", "is it ok to eat
        inside"): no problem, whatever a problem's word the act is said in, when the problem
        cue begins within a word of the asking and nothing after it is a problem too."""
        cues = self.cues
        asked = cues.may_i.search(low)
        if asked is None:
            return False
        found = cues.problem.search(low, asked.end())
        if found is None or cues.problem.search(low[: asked.start()]):
            return False
        if len(low[asked.end() : found.start()].split()) > 1:
            return False
        return cues.problem.search(low, found.end()) is None

    def _told_before(
        self,
        norm: Normalized,
        ranked: list[tuple[str, float]],
        said: int | None,
        problem: bool,
        st: DialogueState,
        low: str,
    ) -> str | None:
        """The sentences of the last answer that answer a short "how long" or "when" follow-up
        about it ("how long do you keep stuff" after lost and found), if it was an owner's text
        and the question names no machine, kind or size and no topic of its own."""
        cues = self.cues
        text = self._owner_text(st.intent)
        if text is None or said is not None or problem or norm.kinds or len(norm.words) > 8:
            return None
        if any(w in self.sizes_by_word for w in norm.words):
            return None
        place = False
        if cues.asks_duration.search(low):
            says = cues.says_duration
        elif cues.when.search(low):
            says = cues.says_moment
        elif cues.asks_place.search(low):
            says, place = cues.says_place, True
        elif cues.asks_price.search(low):
            says = cues.says_money
        else:
            return None
        best, score = ranked[0] if ranked else ("fallback", 0.0)
        generic = ("machine-status", "cycle-times", "prices") + (("machine-info",) if place else ())
        if says is not cues.says_place and says is not cues.says_money:
            generic += ("address", "machine-info")  # a when or how long: never an address
        if score >= THRESHOLD and best not in generic:
            return None
        parts = sentences(text)
        picked = [x for x in parts if says.search(cues.text(x))]
        if not picked and says is cues.says_duration:
            # "how long does it take" after wash and fold: "ready the next day" says it.
            picked = [x for x in parts if cues.says_moment.search(cues.text(x))]
        if place and norm.machine is None:
            # "where's the machine" after the vending machine: a sentence about what it names
            # ("it" names nothing, so any place said will do).
            # The words that ask where are no thing named ("where's that"); "next to" is kept:
            # "is it next to anything" is answered by what the text says it is next to.
            named = set(norm.features) - {"it", "is", "anything", "there", "what", "that"}
            named -= set(self.normalize("where whereabouts anything").features)
            if named:
                about = [x for x in picked if named & set(self.normalize(x).features)]
                # "where is it kept": what "it" is was just said, so any place said will do.
                back = {"it", "that", "they", "them"} & set(norm.words)
                picked = about or (picked if back else [])
        return " ".join(picked) or None

    def _confirmed_before(self, norm: Normalized, st: DialogueState, low: str) -> str | None:
        """ "is it free" after "there's free parking ...": a yes/no question about what was
        just said ("it", "that") that the last owner's text says in so many words: yes, and
        the sentence that says it."""
        cues = self.cues
        text = self._owner_text(st.intent)
        back = {"it", "that", "this", "they"} & set(norm.words)
        if text is None or not back or not cues.yes_no.search(low) or norm.kinds:
            return None
        if (
            any(w in DAY_WORDS for w in norm.words)
            or {"tomorrow", "today", "weekend"} & set(norm.words)
            or len(norm.words) > 6
        ):
            return None  # "can I drop it off on sunday": that day's staff hours say it
        named = {f for f in norm.features if "_" not in f and not f.isdigit()}
        named -= ENTITY_FEATURES | back | _ASKING_WORDS
        if not named or norm.machine is not None:
            return None
        hits = [x for x in sentences(text) if named <= set(self.normalize(x).features)]
        if not hits:
            return None
        said = " ".join(hits)
        if said.lower().startswith(cues.yes.lower().strip(" ,")):
            return said
        return cues.yes + (said if said[:2].isupper() else said[:1].lower() + said[1:])

    @functools.cached_property
    def _per_weight(self) -> dict[str, Decimal]:
        """The owner's texts that price a service by weight ("wash and fold at 1 dollar 50 a
        pound"): intent -> the price of one pound."""
        rates = {i: self.cues.per_weight(t) for i, t in (self.faq_text | self.rule_text).items()}
        return {i: r for i, r in rates.items() if r is not None and r > 0}

    def _weighed(
        self, low: str, st: DialogueState, ranked: list[tuple[str, float]] | None = None
    ) -> tuple[str, Decimal, Decimal] | None:
        """A weight said for a service the owner prices by weight ("I'd have about 40 pounds,
        how much is that" after wash and fold): (its intent, the weight, its price), the
        service being the one talked about, else the likeliest, else the only one."""
        weight = self.cues.weight_given(low)
        rates = self._per_weight
        if weight is None or weight <= 0 or not rates:
            return None
        if st.intent in rates:
            intent = st.intent
        else:
            likely = [i for i, _ in ranked or [] if i in rates]
            if likely:
                intent = likely[0]
            elif len(rates) == 1:
                intent = next(iter(rates))
            else:
                return None
        return intent, weight, (weight * rates[intent]).quantize(Decimal("0.01"))

    def _weight_priced(
        self, low: str, st: DialogueState, ranked: list[tuple[str, float]]
    ) -> tuple[str, str] | None:
        """ "40 pounds at $1.50 a pound is $60": a weight priced at the owner's rate, when a
        price is asked or the talk is about that service; (its intent, the sentence)."""
        weighed = self._weighed(low, st, ranked)
        cues = self.cues
        if weighed is None:
            return None
        intent, weight, total = weighed
        if not (cues.asks_price.search(low) or cues.asks_total.search(low)):
            return None
        say = self.say
        text = say(
            "weight_priced",
            weight=_amount(weight),
            rate=say.money(self._per_weight[intent]),
            total=say.money(total),
        )
        return intent, text

    def _counted_price(self, text: str, st: DialogueState) -> tuple[str, SizeInfo] | None:
        """ "two regulars plus one large, what's my total", "what would two of them cost":
        washes counted by size, priced together (or side by side, when put as choices: "two
        regulars or one large, which is cheaper"), with the size the talk is now about. A
        word naming no size ("machines", "them") counts the one size the question names, or
        the one talked about; loads, quarters and minutes are no machines."""
        cues = self.cues
        low = cues.text(plain(text))
        asked = cues.asks_price.search(low) or cues.asks_total.search(low)
        if not asked or cues.problem.search(low):
            return None
        norm = self.normalize(text)
        kinds = set(norm.kinds) | ({st.kind} if not norm.kinds and st.kind else set())
        washers = set(self.knowledge.washers)

        def size_of(words: tuple[str, ...]) -> SizeInfo | None:
            sizes = [s for w in words for s in self.sizes_by_word.get(w, []) if s in washers]
            if "washer" in kinds or not kinds:
                return sizes[0] if sizes else None
            return None

        named = {s for w in norm.words for s in self.sizes_by_word.get(w, []) if s in washers}
        talked = None
        if st.size is not None and st.kind in (None, "washer"):
            talked = next((s for s in self.sizes_by_word.get(st.size, []) if s in washers), None)
        groups: list[tuple[int, SizeInfo, bool]] = []
        # As read ("4 a" typed for "for a"), with its spaces: Korean reads without them.
        for count, word, alternative in cues.counted(low if cues.spaced else plain(text)):
            said = self.normalize(word)
            size = size_of(said.words)
            if size is None and all(f in ENTITY_FEATURES for f in said.features):
                # "two machines", "two of them": the one size named, else the one talked about
                size = next(iter(named)) if len(named) == 1 else (None if named else talked)
            if size is not None and count > 0:
                groups.append((count, size, alternative))
        say = self.say

        def item(count: int, size: SizeInfo) -> str:
            kind = say.plural(say.kinds[size.kind], count)
            return say("count_item", count=count, size=size.name, kinds=kind)

        choices = any(alt for _, _, alt in groups) or bool(cues.compares.search(low))
        # What each choice costs: the washes counted, and a service priced by weight ("or
        # wash and fold for 10 pounds") beside a size named alone ("a regular washer").
        options: list[tuple[str, Decimal, SizeInfo | None]]
        options = [(item(n, s), n * s.price, s) for n, s, _ in groups]
        weighed = self._weighed(low, st)
        if weighed is not None and choices:
            intent, weight, money = weighed
            service = intent.split(":", 1)[-1].replace("-", " ")
            counted_words = {w for _, word, _ in cues.counted(plain(text)) for w in word.split()}
            alone = [s for s in named if s.name not in counted_words]
            options += [(item(1, s), s.price, s) for s in alone]
            options.append(
                (say("weight_item", service=service, weight=_amount(weight)), money, None)
            )
        if choices and len(options) == 2:
            (la, a, sa), (lb, b, sb) = options
            size = sa or sb
            if a == b and size is not None:
                return say("same_choice", first=cap(la), second=lb, money=say.money(a)), size
            (cl, cm, cs), (dl, dm, ds) = sorted(options, key=lambda o: o[1])
            if size is not None:
                text = say(
                    "counted_choice",
                    cheaper=cap(cl),
                    money=say.money(cm),
                    less=say.money(dm - cm),
                    dearer=dl,
                    other=say.money(dm),
                )
                return text, cs or ds or size
        if sum(count for count, _, _ in groups) < 2:
            return None
        if choices:
            text = " ".join(
                say("counted_each", item=cap(item(n, s)), money=say.money(n * s.price))
                for n, s, _ in groups
            )
            return text, groups[0][1]
        total = sum((n * s.price for n, s, _ in groups), Decimal(0))
        items = say.join_and(item(n, s) for n, s, _ in groups)
        return say("counted_total", total=say.money(total), items=items), groups[-1][1]

    def _owner_text(self, intent: str | None) -> str | None:
        """The owner's text an answer to ``intent`` gives (an FAQ, a rule, lost and found)."""
        k = self.knowledge
        texts = {
            "lost-and-found": k.lost_and_found,
            "refunds": k.refund,
            "detergent": " ".join(k.howto.detergent),
            "address": k.address,
            "payment": k.payment_details,
        }
        if intent in texts:
            return texts[intent] or None
        if intent is None:
            return None
        return self.faq_text.get(intent) or self.rule_text.get(intent)

    def _payment_kept(
        self,
        norm: Normalized,
        best: str,
        score: float,
        number: int | None,
        item: str | None,
        problem: bool,
        hypothetical: bool,
        low: str,
    ) -> tuple[str, float]:
        """A payment problem told as money the machine kept ("took my card payment and isn't
        running") is money taken; a dead card reader on a named machine is a broken machine.
        A card the reader refused ("my card was declined") stays a payment problem."""
        if best != "payment-problem" or not problem or hypothetical:
            return best, score
        if self.cues.money_lost.search(low):
            return "money-taken", max(score, THRESHOLD)
        if item != "payment-problem" and not self.payment_words.intersection(norm.features):
            # "the screen on 7 says error": no payment said, so a machine's problem.
            return "machine-broken", max(score, THRESHOLD)
        if "reader" in norm.features or (number is not None and item != "payment-problem"):
            # A dead card reader is its machine's: broken (which machine, if none is named).
            return "machine-broken", max(score, THRESHOLD)
        return best, score

    def _the_other(
        self,
        norm: Normalized,
        number: int | None,
        bare: int | None,
        st: DialogueState,
        low: str,
    ) -> tuple[Normalized, int | None]:
        """ "the other one" after a machine: that machine's twin (same kind, size, place),
        with the words that said so taken out of the features, so the rest is a follow-up."""
        said = self.cues.other.search(low)
        if said is None or number is not None or bare is not None:
            return norm, number
        if st.machine is None:
            return self._other_size(norm, st, low, said), number
        other = self._other_machine(st.machine)
        if other is None:
            return norm, number
        drop = set(self.normalize(said.group(0)).features)
        features = tuple(f for f in norm.features if f not in drop and not drop & set(f.split("_")))
        machine = MachineRef(other.kind, other.number)
        return dataclasses.replace(norm, features=features, machine=machine), other.number

    def _other_size(
        self, norm: Normalized, st: DialogueState, low: str, said: re.Match[str]
    ) -> Normalized:
        """ "and the other kind" after one of a machine kind's two sizes (the big dryer): the
        other size, named in its place."""
        k = self.knowledge
        sizes = [s for s in k.washers + k.dryers if s.kind == st.kind]
        if self.language.code != "en":
            return norm  # the size is named in English words below
        if st.size is None or len(sizes) != 2 or st.size not in {s.name for s in sizes}:
            return norm
        if norm.kinds - {st.kind} or any(w in self.sizes_by_word for w in norm.words):
            return norm  # "the other washer" after a dryer, "the other big one": not this
        name = next(s.name for s in sizes if s.name != st.size)
        end = re.compile(r"\s*\b(kind|type|size|sort|model)s?\b").match(low, said.end())
        rest = low[end.end() if end else said.end() :]
        return self.normalize(f"{low[: said.start()]}the {name} {st.kind}{rest}")

    def _where_machine(
        self,
        best: str,
        score: float,
        norm: Normalized,
        number: int | None,
        st: DialogueState,
        low: str,
    ) -> tuple[str, float]:
        """ "where are the giant washers", "where is it" after a machine, "is it one of the big
        ones?": a machine's own facts (where it is, its size), not its price or state, whatever
        else the words are like."""
        cues, sized = self.cues, any(w in self.sizes_by_word for w in norm.words)
        if (
            sized
            and cues.yes_no.search(low)
            and (number is not None or st.machine is not None)
            and "price" not in norm.features
            and not {"free", "use", "available"}.intersection(norm.features)
            and not cues.asks_busy.search(low)
            and not cues.asks_working.search(low)
        ):
            return "machine-info", max(score, THRESHOLD)  # "is number 5 a regular or a large"
        if not cues.asks_place.search(low) or "free" in norm.words:
            return best, score
        if score >= THRESHOLD and best not in ("prices", "cycle-times", "machine-status"):
            return best, score
        here = number is None and not norm.kinds and (st.machine or st.size) is not None
        if number is not None or sized or (here and len(norm.words) <= 4):
            return "machine-info", max(score, THRESHOLD)
        return best, score

    @staticmethod
    def _running(machines: Mapping[int, MachineStatus], number: int) -> bool:
        status = machines.get(number)
        return status is not None and status.state is MachineState.BUSY

    def _size_words(self, featured: list[tuple[str, tuple[str, ...]]]) -> dict[str, SizeInfo]:
        """Words that only one size's description says ("comforters" for the large washer,
        "stack" for the big dryer) and no topic's examples but the machines' own facts, each
        with its size: a question holding one asks about that size."""
        counts: dict[str, int] = {}
        owner: dict[str, SizeInfo] = {}
        for size in self.knowledge.washers + self.knowledge.dryers:
            for f in set(self.normalize(size.description).features):
                counts[f] = counts.get(f, 0) + 1
                owner[f] = size
        topics: dict[str, set[str]] = {}
        for intent, features in featured:
            for f in features:
                topics.setdefault(f, set()).add(intent)
        return {
            f: owner[f]
            for f, n in counts.items()
            if n == 1
            and "_" not in f
            and not f.isdigit()
            and f not in ENTITY_FEATURES
            and f not in self.sizes_by_word
            and topics.get(f, set()) <= {"machine-info"}
        }

    def _with_staff_day(self, text: str, turn: Turn, low: str) -> str:
        """An owner's text that needs staff ("drop off while staff are here"), asked for a day
        or an hour ("on sunday afternoon", "at 9pm"): with the staff hours of that day."""
        if not self.cues.asks_staff.search(self.cues.text(text.lower())):
            return text
        days = days_asked(turn.norm.words, turn.now)
        if not days and self.cues.says_moment.search(low):
            days = [turn.now.weekday()]  # an hour today
        if not days or self.knowledge.staff_hours.always:
            return text
        at = self._staff_at(turn)
        if at is not None and not at[1]:
            # "can I drop off wash and fold at 9pm": not then, whatever yes the text opens with.
            yes = self.cues.yes
            if text.startswith(yes):
                text = text[len(yes) :]
                text = text[:1].upper() + text[1:]
            said = self.say("staff_not_then")
            no = self.cues.no + (said[:1].lower() if said[:1].isascii() else said[:1]) + said[1:]
            return " ".join([no, text, self._staff_day(at[0])])
        return " ".join([text, *(self._staff_day(d) for d in days)])

    def _step_placed(self, norm: Normalized, low: str) -> tuple[str, str] | None:
        """ "where do I put the detergent", "세제는 어디 넣어요": the how-to step that says where
        the thing named goes, as (its how-to, the step)."""
        if not self.cues.asks_place.search(low) or not _PUT_WORDS.intersection(norm.words):
            return None
        named = set(norm.features) - ENTITY_FEATURES - _PUT_WORDS - {"where", "suppos"}
        named = {f for f in named if "_" not in f}
        howto = self.knowledge.howto
        kinds = {"how-to-wash": "washer", "how-to-dry": "dryer"}
        for intent, steps in (("how-to-wash", howto.wash), ("how-to-dry", howto.dry)):
            if norm.kinds and kinds[intent] not in norm.kinds:
                continue  # "dryer sheets" go in the dryer, whatever the wash steps say
            for step in steps:
                if named & set(self.normalize(step).features):
                    return intent, step
        return None

    def _thing_placed(self, norm: Normalized, low: str) -> tuple[str, str] | None:
        """ "where's the vending machine", "자판기 어디 있어요": the sentence of an owner's text
        or a how-to that says where the thing named is, as (its topic, the sentence); only when
        every word naming it is in that sentence."""
        cues = self.cues
        if not cues.asks_place.search(low) or (norm.machine and norm.machine.number is not None):
            return None
        if _PUT_WORDS.intersection(norm.words):
            return None  # where a thing goes: a how-to step (_step_placed)
        asked = set(self.normalize(cues.asks_place.pattern).features)
        named = {f for f in norm.features if "_" not in f and not f.isdigit()}
        named -= ENTITY_FEATURES | asked | _PUT_WORDS | {"is", "there", "have", "what", "where"}
        named -= set(self.sizes_by_word)
        if not named:
            return None
        for intent, text in self._topic_texts():
            for sentence in sentences(text):
                if not cues.says_place.search(cues.text(sentence)):
                    continue
                if named <= set(self.normalize(sentence).features):
                    return intent, sentence
        return None

    @functools.cached_property
    def _owner_sentences(self) -> list[str]:
        """Every sentence of the owner's texts, as the cues read them."""
        k = self.knowledge
        texts = [
            *self.faq_text.values(), *self.rule_text.values(),
            *(s.description for s in k.washers + k.dryers), *k.howto.wash, *k.howto.dry,
            *k.howto.detergent, *k.howto.payment, *k.payment_methods, k.payment_details or "",
            k.payment_problems, k.machine_broken, k.refund, k.lost_and_found, k.hours_note or "",
        ]  # fmt: skip
        return [self.cues.text(plain(x)) for text in texts for x in sentences(text)]

    def _unstated(self, low: str) -> tuple[re.Match[str], str] | None:
        """A thing asked that only an owner's text could say (a discount, a machine's weight
        in pounds, an air-dry setting) and none does: the words that ask it, and the topic
        whose answer says what is known instead."""
        for pattern, topic in self.cues.unstated:
            found = pattern.search(low)
            if found is None:
                continue
            if any(pattern.search(x) for x in self._owner_sentences):
                continue  # the owner says it ("10% off on Tuesdays")
            return found, topic
        return None

    def _known_instead(self, text: str, norm: Normalized) -> str:
        """The one sentence of an answer that is known, for a question it cannot answer: the
        first sharing a content word with the question (none: ""), with no yes or no lead."""
        cues = self.cues
        said = []
        for x in sentences(text):
            for lead in (cues.yes, cues.no):
                if x.startswith(lead):
                    x = cap(x[len(lead) :])
            said.append(x)
        asked = set(norm.features) - ENTITY_FEATURES
        asked = {f for f in asked if "_" not in f}
        shared = [x for x in said if asked & set(self.normalize(x).features)]
        return (shared or [""])[0]

    def _topic_texts(self) -> list[tuple[str, str | None]]:
        """The owner's texts, each with the topic that says it."""
        k = self.knowledge
        texts = [(i, self._owner_text(i)) for i in ("detergent", "payment", "lost-and-found")]
        texts += [("how-to-wash", " ".join(k.howto.wash)), ("how-to-dry", " ".join(k.howto.dry))]
        return texts + list(self.faq_text.items()) + list(self.rule_text.items())

    def _thing_had(
        self, best: str, score: float, norm: Normalized, low: str
    ) -> tuple[str, str] | None:
        """ "is there a folding table", "접이식 테이블 있어요?": a thing asked to be here that the
        topic picked does not name but an owner's sentence does ("the vending machine by the
        folding tables"): that sentence, as (its topic, the sentence)."""
        cues = self.cues
        if not cues.asks_have.search(low) or cues.asks_place.search(low):
            return None
        named = {f for f in norm.features if "_" not in f and not f.isdigit()}
        named -= ENTITY_FEATURES | self.common_words | _ASKING_WORDS | _SELL_WORDS
        named -= {"there", "any"} | set(self.sizes_by_word)
        if not named:
            return None
        if score >= THRESHOLD and named <= self.own_words.get(best, frozenset()):
            return None  # the topic's own thing ("is there wifi")
        for intent, text in self._topic_texts():
            for sentence in sentences(text):
                if named <= set(self.normalize(sentence).features):
                    return intent, sentence
        return None

    def _not_sold(
        self,
        best: str,
        norm: Normalized,
        after_sales: bool = False,
        lead: frozenset[str] = frozenset(),
    ) -> bool:
        """ "do you sell gift cards": asked to buy a thing the shop's sales text and its
        examples never name (the vending machine sells detergent, softener and sheets).
        ``after_sales``: a follow-up to what the shop sells ("what about stain remover"), so
        no word of buying is needed, when no text or example of the shop names the thing
        (``lead``: the follow-up's own words, "what else", which name none)."""
        if best != "detergent":
            return False
        named = set(norm.features) - ENTITY_FEATURES - _SELL_WORDS
        named -= {"you", "i", "can", "in", "on", "at", "here", "there", "what"}
        named = {f for f in named if "_" not in f and not f.isdigit()}
        if not _SELL_WORDS.intersection(norm.features):
            named -= lead
            return after_sales and bool(named) and not named & self.shop_words
        return bool(named) and not named & self.sold_words

    def _not_covered(self, best: str, norm: Normalized) -> bool:
        """ "can I wash sneakers", "is smoking allowed": an owner's rule or answer picked for a
        question about a thing it never names (in its text or its example questions)."""
        features = set(norm.features)
        if not best.startswith("rule:") or not _ITEM_ASKED & features:
            return False
        named = features - ENTITY_FEATURES - self.common_words - _ASKING_WORDS
        named = {f for f in named if "_" not in f and not f.isdigit()}
        return (
            bool(named)
            and not named & self.own_words.get(best, frozenset())
            and not named & self.shop_words  # a thing no text or example names at all
        )

    def _owners_thing(
        self, best: str, score: float, norm: Normalized, number: int | None, low: str
    ) -> bool:
        """A problem with a thing an owner's text is about, not a machine ("the wifi is not
        working"): that text answers it; no report, and no "which machine?". Never when
        someone is in danger ("my kid is locked in the car")."""
        return (
            not self.cues.urgent.search(low)
            and best.startswith(("faq:", "rule:"))
            and score >= THRESHOLD
            and number is None
            and not norm.kinds
            and norm.machine is None
        )
