"""Answers from the knowledge file: prices, cycle times, hours, staff, the address, payment,
how-to steps, FAQ and rules, lost and found, and what to do about a problem."""

from __future__ import annotations

import datetime
from decimal import Decimal

from laundrybot.dialog.hours import Schedule
from laundrybot.dialog.knowledge import SizeInfo
from laundrybot.dialog.normalize import Normalized
from laundrybot.dialog.turn import (
    DAY_WORDS,
    ENTITY_FEATURES,
    NIGHT_WORDS,
    Answer,
    Base,
    Turn,
    cap,
    days_asked,
    sentences,
)

# The coin the machines take: a price in quarters is counted in it.
QUARTER = Decimal("0.25")

# Words any how-to question has ("how do I use the dryer"): no step is asked by them.
_HOWTO_WORDS = frozenset({"use", "start", "work", "wash", "dry", "load", "laundry", "clothes"})
# "How do I start it", "how does it work", "get it running": the whole way to a running
# machine, not the first two steps (the knowledge file keeps each list to a few steps).
_START_WORDS = frozenset({"start", "work", "run"})


class FactAnswers(Base):
    def _greeting(self, turn: Turn) -> Answer:
        text = self.say("greeting", shop=self.knowledge.shop_name)
        return self._reply(turn, text, expression="happy")

    def _thanks(self, turn: Turn) -> Answer:
        return self._reply(turn, self.say("thanks"), expression="happy")

    def _sizes_asked(self, turn: Turn) -> list[SizeInfo]:
        """The sizes a price or time question is about: a machine's, a named size, or a kind."""
        if turn.machine is not None:
            return [self.knowledge.size_info(turn.machine.kind, turn.machine.size)]
        named = [s for w in turn.norm.words for s in self.sizes_by_word.get(w, [])]
        kind = turn.kind
        if kind is None and len(turn.norm.kinds) > 1:
            # "to wash and dry one normal load": each kind's, its named size or all of them.
            out: list[SizeInfo] = []
            for each in ("washer", "dryer"):
                if each in turn.norm.kinds:
                    mine = [s for s in named if s.kind == each]
                    out += mine or list(self.knowledge.sizes(each))
            return list(dict.fromkeys(out))
        if kind is None and {"load", "loads"} & set(turn.norm.words):
            kind = "washer"  # a load is washed
        if kind is not None:
            named = [s for s in named if s.kind == kind]
        if named:
            return list(dict.fromkeys(named))
        if kind is not None:
            return list(self.knowledge.sizes(kind))
        return []

    def _prices(self, turn: Turn) -> Answer:
        worked_out = self._washing_worked_out(turn) or self._drying_worked_out(turn)
        if worked_out:
            return self._reply(turn, worked_out)
        sizes = self._sizes_asked(turn)
        k, say = self.knowledge, self.say
        if turn.machine is not None:
            size = sizes[0]
            text = say(
                "price_machine",
                name=cap(self._name(turn.machine)),
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

    def _washing_worked_out(self, turn: Turn) -> str | None:
        """Money offered against each washer asked ("is five bucks enough for a large or a
        regular": which it covers, which not), or a wash's price in quarters ("how many
        quarters is a regular wash"); None when the question asks neither."""
        if "dryer" in turn.norm.kinds:
            return None
        cues, say = self.cues, self.say
        asked = [s for s in self._sizes_asked(turn) if s.kind == "washer"]
        sizes = asked or list(self.knowledge.washers)
        money = cues.money_given(turn.low)
        if money is not None and cues.asks_enough.search(turn.low) and sizes:

            def items(of: list[SizeInfo]) -> str:
                return say.join_and(
                    say("enough_item", size=s.name, money=say.money(s.price)) for s in of
                )

            covered = [s for s in sizes if s.price <= money]
            short = [s for s in sizes if s.price > money]
            if not short:
                return say("enough_all", money=say.money(money), items=items(covered))
            if not covered:
                return say("enough_none", money=say.money(money), items=items(short))
            return say(
                "enough_some", money=say.money(money), covered=items(covered), short=items(short)
            )
        if asked and cues.asks_coins.search(turn.low):
            paid = [s for s in asked if s.price > 0 and s.price % QUARTER == 0]
            if paid:
                coins = say.join_and(
                    say(
                        "coins_item",
                        coins=int(s.price / QUARTER),
                        money=say.money(s.price),
                        size=s.name,
                    )
                    for s in paid
                )
                return say("coins", items=coins)
        return None

    def _drying_worked_out(self, turn: Turn) -> str | None:
        """What money offered buys in a dryer ("what does a dollar get me": 32 minutes), or
        what a drying time wanted costs ("to dry for an hour": $2 for 64 minutes), for each
        dryer size asked; None when the question gives neither."""
        sizes = self._sizes_asked(turn)
        if "washer" in turn.norm.kinds or (sizes and all(s.kind == "washer" for s in sizes)):
            return None  # "is the giant eight dollars": a washer named, no drying
        asked = [s for s in sizes if s.kind == "dryer" and s.price > 0]
        dryers = asked or [s for s in self.knowledge.dryers if s.price > 0]
        money = self.cues.money_given(turn.low)
        wanted = self.cues.minutes_wanted(turn.low)
        say = self.say
        if dryers and money is not None and money >= min(s.price for s in dryers):
            items = say.join_and(
                say("dry_bought_item", minutes=int(money // s.price) * s.minutes, size=s.name)
                for s in dryers
            )
            return say("dry_bought", money=say.money(money), items=items)
        if dryers and wanted:
            bought = [(s, -(-wanted // s.minutes)) for s in dryers]  # whole coins, rounded up
            items = say.join_and(
                say(
                    "price_dry_item",
                    money=say.money(n * s.price),
                    minutes=n * s.minutes,
                    size=s.name,
                )
                for s, n in bought
            )
            return say("dry_for", wanted=wanted, items=items)
        return None

    def _cycle_times(self, turn: Turn) -> Answer:
        worked_out = self._drying_worked_out(turn)
        if worked_out:
            return self._reply(turn, worked_out)
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
        if len({s.minutes for s in dryers}) > 1:
            # "minutes per quarter on each kind of dryer": each size's, not a span of them.
            parts.append(self._price_sentence(dryers))
        elif dryers:
            parts.append(
                say(
                    "cycle_dry",
                    minutes=say.span(s.minutes for s in dryers),
                    price=say.range(s.price for s in dryers),
                )
            )
        return self._reply(turn, " ".join(parts))

    def _hours(self, turn: Turn) -> Answer:
        k = self.knowledge
        shop = k.shop_hours
        asked_day = next((DAY_WORDS[w] for w in turn.norm.words if w in DAY_WORDS), None)
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
        late = {"late", "last", "latest", "midnight", "night"} & set(turn.norm.words)
        if k.hours_note and (late or self.cues.asks_latest.search(turn.low)):
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

    def _staff_contact(self, turn: Turn) -> Answer:
        k = self.knowledge
        days = days_asked(turn.norm.words, turn.now)
        if self.cues.asks_week.search(turn.low):
            days = list(range(7))  # "what days are they in (, and till when on sunday)"
        at = self._staff_at(turn)
        if at is not None:
            day, inside = at
            parts = [self._staff_day(day)] if inside else [self.say("staff_not_then")]
            if not inside:
                parts.append(self._staff_day(day))
            parts.append(self.say("staff_contact", phone=k.staff_phone))
            if not inside and k.staff_phone_note:
                parts.append(k.staff_phone_note)
            return self._reply(turn, " ".join(parts), intent="staff-contact")
        if NIGHT_WORDS.intersection(turn.norm.words) and not k.staff_hours.always and not days:
            parts = [self._staff_now(turn), self.say("staff_contact", phone=k.staff_phone)]
            if k.staff_phone_note:  # "even at night?": urgent calls any time
                parts.append(k.staff_phone_note)
            return self._reply(turn, " ".join(parts), intent="staff-contact")
        if days and not k.staff_hours.always:
            first = " ".join(self._staff_days(days))
        else:
            first = self._staff_now(turn)
        parts = [first, self.say("staff_contact", phone=k.staff_phone)]
        cues = self.cues
        if k.staff_phone_note and (
            (cues.when.search(turn.low) and cues.calls.search(turn.low))
            or (days and NIGHT_WORDS.intersection(turn.norm.words))
        ):
            # "when can I call", "I work nights, staff hours on weekdays": urgent calls any time
            parts.append(k.staff_phone_note)
        return self._reply(turn, " ".join(parts), intent="staff-contact")

    def _staff_days(self, days: list[int]) -> list[str]:
        """Each day's staff hours; a run of days alike said once ("Monday to Friday")."""
        hours = self.knowledge.staff_hours.days
        out: list[str] = []
        i = 0
        while i < len(days):
            j = i
            while (
                j + 1 < len(days)
                and days[j + 1] == days[j] + 1
                and hours[days[j + 1]] == hours[days[i]]
            ):
                j += 1
            interval = hours[days[i]]
            if j > i and interval is not None:
                out.append(
                    self.say(
                        "staff_days",
                        first=self.say.day_names[days[i]],
                        last=self.say.day_names[days[j]],
                        start=self.say.time(interval.start),
                        end=self.say.time(interval.end),
                    )
                )
            else:
                out += [self._staff_day(d) for d in days[i : j + 1]]
            i = j + 1
        return out

    def _staff_day(self, weekday: int) -> str:
        interval = self.knowledge.staff_hours.days[weekday]
        day = self.say.day_names[weekday]
        if interval is None:
            return self.say("staff_day_none", day=day)
        start, end = self.say.time(interval.start), self.say.time(interval.end)
        return self.say("staff_day", day=day, start=start, end=end)

    def _staff_now(self, turn: Turn) -> str:
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

    def _address(self, turn: Turn) -> Answer:
        k = self.knowledge
        if k.address:
            text = self.say("address", shop=k.shop_name, address=k.address)
        else:
            text = self.say("no_address", shop=k.shop_name, phone=k.staff_phone)
        return self._reply(turn, text)

    def _payment(self, turn: Turn) -> Answer:
        k = self.knowledge
        if {"how", "where"} & set(turn.norm.words) and not any(
            w in turn.norm.words for w in ("top", "load", "change", "coin", "coins", "quarters")
        ):
            text = " ".join(k.howto.payment)
        else:
            text = self.say("payment", methods=self.say.join_or(k.payment_methods))
            details = self._asked_about(k.payment_details or "", turn.norm)
            if details:
                text += " " + details
        return self._reply(turn, text)

    def _refunds(self, turn: Turn) -> Answer:
        k = self.knowledge
        text = self.say("refunds", note=k.money_taken_note, refund=k.refund)
        return self._reply(turn, text)

    def _problem_help(self, turn: Turn) -> Answer:
        k = self.knowledge
        text = self.say("problem_help", broken=k.machine_broken, urgent=self._urgent())
        at = self._staff_at(turn)
        after_hours = at is not None and not at[1]  # "a leak at 3 am": nobody is in then
        if k.staff_phone_note and (
            after_hours or (NIGHT_WORDS | {"weekend"}) & set(turn.norm.words)
        ):
            text += " " + k.staff_phone_note
        return self._reply(turn, text)

    def _asked_about(self, text: str, norm: Normalized, first: bool = False) -> str:
        """The sentences of an owner's text that share a content word with the question
        (details on request: "where do I get change" hears about the change machine); with
        ``first``, the first sentence when none does."""
        said = sentences(text)
        asked = set(norm.features) - ENTITY_FEATURES
        picked = [x for x in said if asked & set(self.normalize(x).features)]
        if not picked and first and said:
            picked = said[:1]
        return " ".join(picked)

    def _payment_problem(self, turn: Turn) -> Answer:
        problems = self._asked_about(self.knowledge.payment_problems, turn.norm, first=True)
        text = f"{problems} {self._urgent()}"
        return self._reply(turn, text, expression="apologetic")

    def _steps(self, turn: Turn, steps: tuple[str, ...]) -> Answer:
        """The first two steps, and the rest on request ("want the steps?" - "yes"); a
        question about a later step ("can I add more time?") gets that step, and one about
        starting the machine gets them all."""
        later = self._later_step(turn, steps)
        if later:
            return self._reply(turn, later)
        starting = bool(_START_WORDS & set(turn.norm.features))
        if len(steps) > 2 and turn.intent in ("how-to-wash", "how-to-dry") and not starting:
            return self._reply(turn, " ".join([*steps[:2], self.say("more_steps")]))
        return self._reply(turn, " ".join(steps))

    def _later_step(self, turn: Turn, steps: tuple[str, ...]) -> str:
        """The steps after the first two that share a content word with the question."""
        asked = set(turn.norm.features) - ENTITY_FEATURES - _HOWTO_WORDS
        asked = {f for f in asked if "_" not in f}
        picked = [s for s in steps[2:] if asked & set(self.normalize(s).features)]
        return " ".join(picked)

    def _howto(self, intent: str) -> tuple[str, ...]:
        howto = self.knowledge.howto
        return {"how-to-wash": howto.wash, "how-to-dry": howto.dry}.get(intent, ())

    def _lost_and_found(self, turn: Turn) -> Answer:
        k = self.knowledge
        text = self.say("lost", text=k.lost_and_found, phone=k.staff_phone)
        return self._reply(turn, text)

    def _rules(self, turn: Turn) -> Answer:
        rules = self.knowledge.rules
        if not rules:
            text = self.say("no_rules", phone=self.knowledge.staff_phone)
            return self._reply(turn, text)
        return self._reply(turn, " ".join(r.text for r in rules))
