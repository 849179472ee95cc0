"""What the attendant says in English: the answer templates and how numbers, money, times
and lists are said (see dialog/wording.py for the Wording they fill in).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from laundrybot.dialog.hours import speak_time
from laundrybot.dialog.wording import Wording, _runs


def _en_money(amount: Decimal) -> str:
    if amount < 1:
        return f"{int(amount * 100)} cents"
    if amount == amount.to_integral_value():
        return f"${int(amount)}"
    return f"${amount:.2f}"


def _en_join_and(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _en_join_or(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + ", or " + words[-1]


def _en_number_list(numbers: list[int]) -> str:
    if len(numbers) > 6:  # a long list is tiring to hear
        return f"{_en_join_and(str(n) for n in numbers[:5])} and {len(numbers) - 5} more"
    return _en_join_and(str(n) for n in numbers)


def _en_number_ranges(numbers: list[int]) -> str:
    """[1,2,3,4,9] -> "1 to 4 and 9"."""
    return _en_join_and(
        f"{r[0]} to {r[-1]}" if len(r) > 2 else _en_join_and(map(str, r)) for r in _runs(numbers)
    )


# One sentence each: an escalation answer is at most two short sentences when spoken.
_EN_CALL_STAFF = (
    "I've recorded your request for the staff; to reach them right away, call or text {phone}. "
)
_EN_MONEY_TAKEN = "I've recorded your report for the staff; for urgent help, call or text {phone}."
_EN_MACHINE_BROKEN = (
    "I've recorded the problem for the staff; for urgent help, call or text {phone}."
)

ENGLISH = Wording(
    language="en",
    kinds={"washer": "washer", "dryer": "dryer", "machine": "machine"},
    day_names=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    money=_en_money,
    minutes=lambda n: "1 minute" if n == 1 else f"{n} minutes",
    time=speak_time,
    join_and=_en_join_and,
    join_or=_en_join_or,
    number_list=_en_number_list,
    number_ranges=_en_number_ranges,
    plural=lambda kind, n: kind if n == 1 else f"{kind}s",
    finish=lambda text: text,
    templates={
        "machine": "{kind} {number}",
        # a size the knowledge file gives no description: "large washer"
        "default_description": "{size} {kind}",
        "the_kind": "the {kind}",
        "today": "today",
        "tomorrow": "tomorrow",
        "on_day": "on {day}",
        "range": "{low} to {high}",
        "where": ", {location}",
        # other machines
        "alt_same": " and the same size",
        "alt_free": "{name} is free{same}{where}.",
        "alt_none_free": "No other {kinds} are free right now; {soonest}.",
        "alt_unknown": "I can't see another free {kind} right now; check the displays.",
        "soonest_now": "{name} should be finishing now",
        "soonest": "{name} should be done in about {minutes}",
        # staff
        "staff_always": "Staff are here around the clock.",
        "staff_until": "Staff are usually here until {time}.",
        "staff_none": "No staff are on site right now.",
        "staff_next": "No staff are on site right now; they're next in at {time} {day}.",
        "urgent": "For urgent help, call or text {phone}.",
        "staff_contact": "You can call or text staff at {phone}.",
        # knowledge
        "greeting": (
            "Hi, welcome to {shop}! Ask me about prices, free machines, or how to use the machines."
        ),
        "thanks": "You're welcome! If you need anything else, just ask.",
        "identity": (
            "I'm {shop}'s virtual attendant, a computer, not a person. Ask me about the shop, "
            "or say call staff to reach a person."
        ),
        "per_wash": "a wash",
        "per_dry": "drying",
        "machine_info": "{name} is a {description}{where}.",
        "size_machines": "{kinds} {numbers}{where}: {description}.",
        "machine_count": "There are {count} {kinds}.",
        "price_machine": "{name} is a {description}: {per} is {money} for {minutes} minutes.",
        "prices_all": (
            "A wash is {wash} depending on the washer size, and drying is {dry} for "
            "{dry_minutes} minutes. Ask me about a size if you'd like details."
        ),
        "price_wash_item": "{money} in a {size} washer",
        "price_wash_one": "A wash is {items}, for {minutes} minutes.",
        "price_wash": "A wash is {items}.",
        "compare_wash_item": "{description}: {money} for {minutes} minutes.",
        "count_item": "{count} {size} {kinds}",
        "counted_total": "That's {total} for {items}.",
        "counted_each": "{item}: {money}.",
        "counted_choice": "{cheaper} is {money}, {less} less than {dearer} at {other}.",
        "same_price": "They cost the same: {items}.",
        "cheaper_by": "The {size} {kind} is {money} cheaper.",
        "faster_by": "The {size} {kind} is {minutes} minutes faster.",
        "same_choice": "{first} and {second} cost the same, {money}.",
        "enough_item": "a {size} wash at {money}",
        "enough_all": "Yes, {money} covers {items}.",
        "enough_none": "No, {money} doesn't cover {items}.",
        "enough_some": "{money} covers {covered}, but not {short}.",
        "coins_item": "{coins} quarters ({money}) for a {size} wash",
        "coins": "It's {items}.",
        "weight_priced": "{weight} pounds at {rate} a pound is {total}.",
        "weight_item": "{service} for {weight} pounds",
        "price_dry_item": "{money} for {minutes} minutes in a {size} dryer",
        "price_dry": "Drying is {items}, and you can add more time.",
        "dry_bought_item": "{minutes} minutes in a {size} dryer",
        "dry_bought": "{money} gets you {items}.",
        "dry_for": "To dry for {wanted} minutes, it's {items}.",
        "cycle_wash_item": "{minutes} minutes in a {size} washer",
        "cycle_wash": "A wash takes {items}.",
        "cycle_dry": (
            "Dryers run {minutes} minutes for each {price}, "
            "and you can add time until your clothes are dry."
        ),
        "hours_always": "We're open 24 hours a day, 7 days a week.",
        "hours_day_always": "On {day} we're open 24 hours, like every day.",
        "hours_day_closed": "On {day} we're closed.",
        "hours_day_open": "On {day} we're open {start} to {end}.",
        "open_until": "We're open now until {time}.",
        "staff_day": "On {day}, staff are here {start} to {end}.",
        "staff_not_then": "Staff aren't here then.",
        "staff_days": "{first} to {last}, staff are here {start} to {end}.",
        "staff_day_none": "On {day}, no staff are on site.",
        "closed": "We're closed right now.",
        "closed_next": "We're closed right now; we open at {time} {day}.",
        "address": "{shop} is at {address}.",
        "no_address": "This is {shop}. Staff can help with directions at {phone}.",
        "payment": "You can pay with {methods}.",
        "lost": "{text} If it's not there, call or text staff at {phone}.",
        "no_rules": "There are no special rules here. For questions, call {phone}.",
        # machines
        "which_machine": (
            "Which machine number? It's printed on the front of the machine, and its "
            "display also shows the minutes left."
        ),
        "wrong_kind": "Number {number} is a {kind}, not a {said}; our {saids} are {ranges}. ",
        "no_status": (
            "I don't have a current status for {name}. Its display shows "
            "whether it's running and how many minutes are left."
        ),
        "is_free": "{name} is free right now{where}.",
        "out_of_order": "Sorry, {name} is out of order. ",
        "busy": "{name} is in use; its display shows the minutes left.",
        "busy_finishing": "{name} should be finishing about now; check its display.",
        "board_out_of_order": "{name} is out of order.",
        "busy_left": "{name} is in use, with about {minutes} left.",
        "kind_ranges": "{kinds} are {ranges}",
        "kinds_joiner": " and ",
        "no_such_machine": (
            "I can't find a machine {number} here: {ranges}. "
            "The number is printed on the front of each machine."
        ),
        "no_status_all": (
            "I don't have the machines' status right now. Each machine's display shows "
            "whether it's free."
        ),
        "free_item": "{kinds} {numbers}",
        "free_now": "Free right now: {items}.",
        "none_free": "No {kinds} are free right now.",
        "none_free_soonest": "No {kinds} are free right now; {soonest}.",
        "unknown_some": "I have no status for {count} {machines}, so check their displays too.",
        # escalations: what comes before the staff sentence ("*_sorry"), and the staff sentence:
        # "recorded, with the phone" until a notification channel accepted the report, then
        # "staff_messaged" or "staff_already" (Wording.staff_told renders it from the outcome).
        "call_staff": _EN_CALL_STAFF,
        "about_machine": " with {name}",
        "money_taken_sorry": "Sorry about that{about}; please note {note}. ",
        "money_taken_recorded": _EN_MONEY_TAKEN,
        "instead": ", and {name} is free if you need another",
        "machine_broken_sorry": "Sorry about {which}{instead}; {broken} ",
        "machine_broken_recorded": _EN_MACHINE_BROKEN,
        "staff_messaged": "I've messaged the staff; someone usually answers within {minutes}. ",
        "staff_messaged_no_time": (
            "I've messaged the staff; someone will answer as soon as they can. "
        ),
        "staff_already": (
            "The staff have already been messaged about this; someone usually answers within "
            "{minutes}. "
        ),
        "staff_already_no_time": "The staff have already been messaged about this. ",
        "fallback_unclear": "Sorry, I can't help with that one.",
        # understanding: declines, clarifying questions, reports, steps on request
        "dont_know_but": "Sorry, I don't know that. {known}",
        "dont_know": "Sorry, I don't know that one.",
        "holiday_staff": "Sorry, I don't know the staff's holiday hours; you can call or text"
        " staff at {phone}.",
        "cant_do": "Sorry, I can't do that here.",
        "other_place": "Sorry, I don't know about {place}; I only know this laundromat.",
        "places_nearby": "Sorry, I don't know the places nearby; I only know this laundromat.",
        "can_help": (
            "I can help with prices, hours, free machines and how to use them, or say call "
            "staff if you need a person."
        ),
        "clarify": "I'm not sure I got that: is it about {a} or {b}?",
        "refunds": (
            "If a machine keeps your money, don't put more in; note {note} and tell staff. {refund}"
        ),
        "problem_help": (
            "If a machine breaks or leaks, tell me its number and I'll report it for the staff. "
            "{broken} {urgent}"
        ),
        "ask_problem_machine": (
            "Sorry about that. Which machine is it? The number is on the front."
        ),
        "report_machine": "Thanks, I've added {name} to your report for the staff.",
        "report_no_machine": "I can't find a machine {number} here; which machine number is it?",
        "more_steps": "Want the rest of the steps?",
        "topic:prices": "prices",
        "topic:machine-info": "which machine to use",
        "topic:cycle-times": "how long a cycle takes",
        "topic:hours": "opening hours",
        "topic:staff-contact": "reaching the staff",
        "topic:address": "where we are",
        "topic:payment": "how to pay",
        "topic:payment-problem": "a payment problem",
        "topic:how-to-wash": "using a washer",
        "topic:how-to-dry": "using a dryer",
        "topic:detergent": "detergent",
        "topic:lost-and-found": "lost and found",
        "topic:rules": "the shop rules",
        "topic:machine-status": "a machine's status",
        "topic:free-machines": "free machines",
        "fallback_unheard": "Sorry, I didn't catch that.",
        "fallback": (
            "{opening} I can tell you about prices, opening hours, free machines and how to "
            "use them, or say call staff if you need a person."
        ),
    },
)
