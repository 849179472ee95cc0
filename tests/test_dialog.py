"""The dialogue brain: accuracy on a realistic question set, and the content of each kind of
answer (machine status, free machines, escalations, fallback, opening hours).

Run with `pytest -s tests/test_dialog.py` to see the accuracy figures and the misses.
"""

from __future__ import annotations

import dataclasses
import datetime
import pathlib
import random
import time
from typing import Any

import pytest
import yaml

from laundrybot.dialog.engine import EXPRESSIONS, Answer, Dialog
from laundrybot.dialog.intents import ESCALATIONS
from laundrybot.dialog.knowledge import Knowledge, load_knowledge
from laundrybot.dialog.normalize import MachineRef
from laundrybot.lang.en.intents import EXAMPLES
from laundrybot.lang.en.normalize import Normalizer
from laundrybot.machines.state import MachineState, MachineStatus

HERE = pathlib.Path(__file__).resolve().parent
SAMPLE = HERE.parent / "conf" / "knowledge.yaml"
QUESTIONS = yaml.safe_load((HERE / "dialog_questions.yaml").read_text(encoding="utf-8"))

# Bars, set honestly: the tuning set was used to write the phrase tables, so it must stay high;
# the held-out set measured 72.5% before any change and 75% after (see dialog_questions.yaml).
TUNED_BAR = 0.90
HELD_OUT_BAR = 0.70

CHICAGO = datetime.timezone(datetime.timedelta(hours=-6))  # CST, fixed for repeatable tests
# Monday 3 March 2025, 15:30 in the shop: staff are in (08:00-20:00).
AFTERNOON = datetime.datetime(2025, 3, 3, 15, 30, tzinfo=CHICAGO)
# Tuesday 4 March 2025, 02:00 in the shop: nobody on site.
NIGHT = datetime.datetime(2025, 3, 4, 2, 0, tzinfo=CHICAGO)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge(SAMPLE)


@pytest.fixture(scope="module")
def dialog(knowledge: Knowledge) -> Dialog:
    return Dialog(knowledge)


def status(number: int, state: MachineState, minutes: float | None = None) -> MachineStatus:
    now = AFTERNOON.timestamp()
    until = None if minutes is None else now + minutes * 60
    return MachineStatus(number=number, state=state, until=until, updated=now - 60)


FREE, BUSY, BROKEN = MachineState.FREE, MachineState.BUSY, MachineState.OUT_OF_ORDER


# --- accuracy -------------------------------------------------------------------------------


def _score(dialog: Dialog, items: list[dict[str, Any]], label: str) -> float:
    misses = []
    for item in items:
        answer = dialog.answer(item["q"], {}, AFTERNOON)
        # A problem without its machine is understood, and asked "which machine?" first.
        asked = answer.state.pending == "report-machine"
        intent = answer.state.pending_kind if asked else answer.intent
        if intent != item["intent"] or answer.machine != item.get("machine"):
            misses.append(
                f"  {item['q']!r}: got {intent} (machine {answer.machine}), "
                f"want {item['intent']} (machine {item.get('machine')})"
            )
    accuracy = 1 - len(misses) / len(items)
    print(f"\n{label}: {len(items) - len(misses)}/{len(items)} correct = {accuracy:.1%}")
    for line in misses:
        print(line)
    return accuracy


def test_accuracy_on_question_set(dialog: Dialog) -> None:
    accuracy = _score(dialog, QUESTIONS["questions"], "dialog accuracy (tuning set)")
    assert accuracy >= TUNED_BAR


def test_accuracy_on_held_out_questions(dialog: Dialog) -> None:
    accuracy = _score(dialog, QUESTIONS["held_out"], "dialog accuracy (held-out set)")
    assert accuracy >= HELD_OUT_BAR


def test_question_set_is_well_formed(dialog: Dialog, knowledge: Knowledge) -> None:
    items = QUESTIONS["questions"] + QUESTIONS["held_out"]
    assert len(QUESTIONS["questions"]) >= 80
    known = set(EXAMPLES) | {"fallback"}
    known |= {f"faq:{f.id}" for f in knowledge.faq} | {f"rule:{r.id}" for r in knowledge.rules}
    for item in items:
        assert set(item) <= {"q", "intent", "machine"}, item
        assert item["intent"] in known, item
    # Several questions for every built-in intent, and some that must fall back.
    for intent in known - {i for i in known if ":" in i}:
        count = sum(1 for item in QUESTIONS["questions"] if item["intent"] == intent)
        assert count >= 2, f"only {count} questions for {intent}"
    assert sum(1 for item in items if item["intent"] == "fallback") >= 5


# --- every answer is well formed --------------------------------------------------------------


def _random_statuses(rng: random.Random, knowledge: Knowledge) -> dict[int, MachineStatus]:
    statuses = {}
    for machine in knowledge.machines:
        roll = rng.random()
        if roll < 0.2:
            continue  # no status known
        state = rng.choice([FREE, BUSY, BUSY, BROKEN])
        minutes = rng.choice([None, -2, 1, 12, 35]) if state is BUSY else None
        statuses[machine.number] = status(machine.number, state, minutes)
    return statuses


def test_every_answer_is_well_formed(dialog: Dialog, knowledge: Knowledge) -> None:
    rng = random.Random(4)
    items = QUESTIONS["questions"] + QUESTIONS["held_out"]
    extra = ["", "   ", "?!", "4", "machine", "dryer 99", "é漢字🙂", "x" * 5000, "washer " * 300]
    for text in [item["q"] for item in items] + extra:
        for when in (AFTERNOON, NIGHT):
            answer = dialog.answer(text, _random_statuses(rng, knowledge), when)
            assert isinstance(answer, Answer)
            assert answer.text.strip(), text
            assert answer.expression in EXPRESSIONS
            assert answer.source in ("knowledge", "machines", "fallback")
            assert answer.escalation in (None, *ESCALATIONS)
            assert answer.escalation == (answer.intent if answer.intent in ESCALATIONS else None)
            assert answer.machine is None or answer.machine in {
                m.number for m in knowledge.machines
            }
            assert "{" not in answer.text and "None" not in answer.text
            assert len(answer.text) < 400, answer.text  # spoken: keep it short


def test_answer_is_frozen(dialog: Dialog) -> None:
    answer = dialog.answer("hello", {}, AFTERNOON)
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.text = "x"  # type: ignore[misc]


def test_quick_questions_come_from_knowledge_and_are_understood(
    dialog: Dialog, knowledge: Knowledge
) -> None:
    assert dialog.quick_questions == knowledge.quick_questions
    assert 4 <= len(dialog.quick_questions) <= 6
    for question in dialog.quick_questions:
        assert dialog.answer(question, {}, AFTERNOON).intent != "fallback", question


def test_answer_is_fast(dialog: Dialog) -> None:
    questions = [item["q"] for item in QUESTIONS["questions"]]
    statuses = _random_statuses(random.Random(1), dialog.knowledge)
    for q in questions:  # warm the speller cache like a running kiosk would
        dialog.answer(q, statuses, AFTERNOON)
    start = time.perf_counter()
    rounds = 20
    for _ in range(rounds):
        for q in questions:
            dialog.answer(q, statuses, AFTERNOON)
    mean_ms = (time.perf_counter() - start) * 1000 / (rounds * len(questions))
    print(f"\nmean answer() time: {mean_ms * 1000:.0f} microseconds")
    assert mean_ms < 5  # generous for slow CI machines; typical is well under 1 ms


# --- one machine ------------------------------------------------------------------------------


def test_free_machine(dialog: Dialog) -> None:
    answer = dialog.answer("is machine 4 free?", {4: status(4, FREE)}, AFTERNOON)
    assert (answer.intent, answer.source, answer.machine) == ("machine-status", "machines", 4)
    assert "washer 4 is free" in answer.text.lower()
    assert answer.expression == "happy"
    assert answer.escalation is None


def test_busy_machine_says_minutes_left_and_suggests_a_free_one(dialog: Dialog) -> None:
    statuses = {12: status(12, BUSY, 7.2), 10: status(10, FREE), 9: status(9, BUSY, 20)}
    answer = dialog.answer("how long until dryer 12 is done", statuses, AFTERNOON)
    assert answer.machine == 12 and answer.source == "machines"
    assert "about 8 minutes" in answer.text  # 7.2 minutes rounds up: don't promise too early
    assert "dryer 10 is free" in answer.text.lower()


def test_busy_machine_ending_soon_and_overdue(dialog: Dialog) -> None:
    soon = dialog.answer("is washer 3 free", {3: status(3, BUSY, 0.5)}, AFTERNOON)
    assert "about 1 minute left" in soon.text
    overdue = dialog.answer("is washer 3 free", {3: status(3, BUSY, -3)}, AFTERNOON)
    assert "finishing" in overdue.text and "display" in overdue.text


def test_busy_machine_without_end_time_points_to_display(dialog: Dialog) -> None:
    answer = dialog.answer("is washer 3 done", {3: status(3, BUSY, None)}, AFTERNOON)
    assert "in use" in answer.text and "display" in answer.text


def test_out_of_order_suggests_same_kind_and_size(dialog: Dialog) -> None:
    statuses = {
        5: status(5, BROKEN),
        1: status(1, FREE),  # washer, other size
        6: status(6, FREE),  # washer, same size (large)
        9: status(9, FREE),  # dryer: never suggested for a washer
    }
    answer = dialog.answer("is washer 5 working", statuses, AFTERNOON)
    assert answer.intent == "machine-status" and answer.machine == 5
    assert "out of order" in answer.text
    assert "Washer 6 is free and the same size" in answer.text
    assert answer.expression == "apologetic"
    # Only another kind free: say none of this kind is, with when one ends.
    statuses = {5: status(5, BROKEN), 9: status(9, FREE), 2: status(2, BUSY, 4)}
    answer = dialog.answer("is washer 5 working", statuses, AFTERNOON)
    assert "No other washers are free" in answer.text and "washer 2" in answer.text
    assert "dryer" not in answer.text


def test_unknown_status_is_said_honestly(dialog: Dialog) -> None:
    answer = dialog.answer("is dryer 14 free", {}, AFTERNOON)
    assert answer.machine == 14 and answer.source == "machines"
    assert "don't have a current status" in answer.text
    assert "display" in answer.text  # what to do next
    assert answer.expression == "thinking"


def test_machine_that_does_not_exist(dialog: Dialog) -> None:
    answer = dialog.answer("is machine 40 free", {}, AFTERNOON)
    assert answer.intent == "machine-status" and answer.machine is None
    assert "40" in answer.text and "1 to 8" in answer.text and "9 to 16" in answer.text


def test_wrong_kind_for_number_is_explained(dialog: Dialog) -> None:
    answer = dialog.answer("is dryer to free", {2: status(2, FREE)}, AFTERNOON)
    assert answer.machine == 2
    assert "Number 2 is a washer" in answer.text and "9 to 16" in answer.text
    assert "free" in answer.text


def test_how_long_without_number_asks_for_it(dialog: Dialog) -> None:
    answer = dialog.answer("how long until my dryer is done", {}, AFTERNOON)
    assert answer.machine is None
    assert "number" in answer.text.lower()


# --- free machines ----------------------------------------------------------------------------


def test_which_machines_are_free_lists_only_free_ones(dialog: Dialog) -> None:
    statuses = {n: status(n, BUSY, 10 + n) for n in range(1, 17)}
    statuses.update({3: status(3, FREE), 7: status(7, FREE), 11: status(11, FREE)})
    statuses[8] = status(8, BROKEN)
    answer = dialog.answer("which machines are free?", statuses, AFTERNOON)
    assert (answer.intent, answer.source, answer.expression) == (
        "free-machines",
        "machines",
        "happy",
    )
    assert "washers 3 and 7" in answer.text and "dryer 11" in answer.text
    for busy in ("1", "2", "8", "9", "12"):
        assert f" {busy}," not in answer.text and f" {busy}." not in answer.text


def test_free_dryers_only(dialog: Dialog) -> None:
    statuses = {n: status(n, FREE) for n in range(1, 17)}
    answer = dialog.answer("are there any dryers available", statuses, AFTERNOON)
    assert answer.intent == "free-machines"
    assert "dryers 9" in answer.text and "washer" not in answer.text


def test_none_free_says_which_ends_first(dialog: Dialog) -> None:
    statuses = {n: status(n, BUSY, 30) for n in range(1, 17)}
    statuses[4] = status(4, BUSY, 3)
    answer = dialog.answer("any washers free", statuses, AFTERNOON)
    assert "No washers are free" in answer.text and "washer 4" in answer.text
    assert "3 minutes" in answer.text
    assert answer.expression == "apologetic"


def test_free_machines_without_any_status(dialog: Dialog) -> None:
    answer = dialog.answer("which machines are free", {}, AFTERNOON)
    assert answer.intent == "free-machines" and "display" in answer.text


# --- escalations ------------------------------------------------------------------------------

# Nothing may claim the staff were told: there is no live notification channel yet.
FALSE_CLAIMS = ("notified", "messaged", "texted", "alerted", "on their way", "coming", "told")


@pytest.mark.parametrize(
    ("question", "kind", "machine"),
    [
        ("call staff", "call-staff", None),
        ("there's water all over the floor", "machine-broken", None),
        ("dryer 10 ate my quarters", "money-taken", 10),
        ("washer 5 is broken", "machine-broken", 5),
        ("washer five is leaking", "machine-broken", 5),
    ],
)
def test_escalations(
    dialog: Dialog, knowledge: Knowledge, question: str, kind: str, machine: int | None
) -> None:
    answer = dialog.answer(question, {}, NIGHT)
    assert answer.intent == kind and answer.escalation == kind
    assert answer.machine == machine
    assert answer.expression in ("concerned", "apologetic")
    assert "recorded" in answer.text  # what happens next, honestly
    assert knowledge.staff_phone in answer.text
    assert not any(claim in answer.text.lower() for claim in FALSE_CLAIMS), answer.text


def test_a_problem_without_its_machine_asks_which_first(dialog: Dialog) -> None:
    answer = dialog.answer("the machine took my money", {}, NIGHT)
    assert answer.escalation is None and "which machine" in answer.text.lower()
    assert answer.state.pending == "report-machine"
    assert answer.state.pending_kind == "money-taken"
    filed = dialog.answer("number 4", {}, NIGHT, answer.state)
    assert filed.escalation == "money-taken" and filed.machine == 4


def test_money_taken_says_what_to_note_and_refund_route(
    dialog: Dialog, knowledge: Knowledge
) -> None:
    answer = dialog.answer("washer for took my money", {}, AFTERNOON)
    assert answer.machine == 4 and answer.escalation == "money-taken"
    assert knowledge.money_taken_note in answer.text
    # How refunds work: on request, short enough to hear in one go.
    assert knowledge.refund not in answer.text and answer.text.count(". ") <= 1
    refunds = dialog.answer("how long do refunds take", {}, AFTERNOON, answer.state)
    assert knowledge.refund in refunds.text and refunds.escalation is None


def test_machine_broken_suggests_a_free_machine(dialog: Dialog) -> None:
    statuses = {5: status(5, BUSY, 10), 6: status(6, FREE)}
    answer = dialog.answer("washer 5 is leaking", statuses, AFTERNOON)
    assert "washer 6 is free" in answer.text


def test_call_staff_says_whether_staff_are_in(dialog: Dialog) -> None:
    day = dialog.answer("call staff", {}, AFTERNOON).text
    night = dialog.answer("call staff", {}, NIGHT).text
    assert "until 8 PM" in day
    assert "No staff are on site" in night and "8 AM today" in night


def test_reports_and_questions_about_the_same_machine_differ(dialog: Dialog) -> None:
    assert dialog.answer("is washer 3 working", {}, AFTERNOON).escalation is None
    assert dialog.answer("washer 3 is not working", {}, AFTERNOON).escalation == "machine-broken"


# --- fallback and knowledge answers -------------------------------------------------------------


@pytest.mark.parametrize("question", ["tell me a joke", "what's the weather like", "um", ""])
def test_fallback_says_what_it_can_do(dialog: Dialog, question: str) -> None:
    answer = dialog.answer(question, {}, AFTERNOON)
    assert (answer.intent, answer.source, answer.escalation) == ("fallback", "fallback", None)
    assert "prices" in answer.text and "call staff" in answer.text


def test_prices_come_from_knowledge(dialog: Dialog) -> None:
    assert "$3.50" in dialog.answer("how much iz a wash", {}, AFTERNOON).text
    giant = dialog.answer("how much does washer seven cost", {}, AFTERNOON)
    assert giant.machine == 7 and "$8" in giant.text and "40 minutes" in giant.text
    dryer = dialog.answer("how much is the dryer", {}, AFTERNOON).text
    assert "25 cents" in dryer and "$3.50" not in dryer


def test_faq_and_rules_answer_with_owner_text(dialog: Dialog, knowledge: Knowledge) -> None:
    wifi = dialog.answer("what's the wifi password", {}, AFTERNOON)
    assert wifi.intent == "faq:wifi" and wifi.text == knowledge.faq[0].answer
    dog = dialog.answer("can I bring my dog", {}, AFTERNOON)
    assert dog.intent == "rule:pets" and dog.source == "knowledge"


def test_knowledge_changes_change_answers(tmp_path: pathlib.Path) -> None:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    data["washers"][0]["price"] = 2.25
    data["staff"]["phone"] = "555-999-0000"
    data["faq"].append(
        {"id": "vending", "questions": ["do you have snacks"], "answer": "Snacks are by the door."}
    )
    path = tmp_path / "k.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    dialog = Dialog(load_knowledge(path))
    assert "$2.25" in dialog.answer("how much is a regular wash", {}, AFTERNOON).text
    assert "555-999-0000" in dialog.answer("call staff", {}, AFTERNOON).text
    snacks = dialog.answer("do you have any snacks", {}, AFTERNOON)
    assert snacks.intent == "faq:vending" and snacks.text == "Snacks are by the door."


# --- opening hours ------------------------------------------------------------------------------


def test_open_now_for_a_24_7_shop(dialog: Dialog) -> None:
    answer = dialog.answer("are you open now", {}, NIGHT)
    assert answer.intent == "hours"
    assert answer.text.startswith("Yes, ")
    assert "24 hours" in answer.text
    # Staff are said when asked about: "are staff here" (two short sentences at most).
    staff = dialog.answer("is there staff here now", {}, NIGHT)
    assert "No staff are on site right now" in staff.text


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory: pytest.TempPathFactory) -> Dialog:
    """The sample shop, but with opening hours instead of 24/7."""
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    shop = {day: "06:00-23:00" for day in data["hours"]["staff"]}
    shop["fri"] = "06:00-02:00"  # Friday runs past midnight
    shop["sun"] = "closed"
    data["hours"]["shop"] = shop
    path = tmp_path_factory.mktemp("scheduled") / "knowledge.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return Dialog(load_knowledge(path))


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime.datetime(2025, 3, 3, 15, 30, tzinfo=CHICAGO), "open now until 11 PM"),
        (datetime.datetime(2025, 3, 4, 2, 0, tzinfo=CHICAGO), "open at 6 AM today"),
        (datetime.datetime(2025, 3, 3, 23, 30, tzinfo=CHICAGO), "open at 6 AM tomorrow"),
        (datetime.datetime(2025, 3, 8, 1, 0, tzinfo=CHICAGO), "open now until 2 AM"),  # Sat 1am
        (datetime.datetime(2025, 3, 8, 23, 30, tzinfo=CHICAGO), "open at 6 AM on Monday"),
        # The same instant given in UTC is converted to the shop's time zone.
        (datetime.datetime(2025, 3, 3, 21, 30, tzinfo=datetime.UTC), "open now until 11 PM"),
    ],
)
def test_open_now_with_a_schedule(
    scheduled: Dialog, when: datetime.datetime, expected: str
) -> None:
    answer = scheduled.answer("are you open now", {}, when)
    assert answer.intent == "hours"
    assert expected in answer.text, answer.text


def test_hours_for_a_named_day(scheduled: Dialog) -> None:
    answer = scheduled.answer("are you open on sunday", {}, AFTERNOON)
    assert "No, on Sunday we're closed" in answer.text  # a yes/no question: its answer first


# --- normalisation ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def normalize(dialog: Dialog) -> Normalizer:
    return dialog.normalizer


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("is machine 4 free", None, 4),
        ("is machine for free", None, 4),
        ("is dryer to free", "dryer", 2),
        ("is washer won busy", "washer", 1),
        ("machine twelve", None, 12),
        ("is number four available", None, 4),
        ("dryer number twenty one", "dryer", 21),
        ("is machine #5 free", None, 5),
        ("washer5 is broken", "washer", 5),
        ("is the drier free", "dryer", None),
        ("is the washing machine 3 free", "washer", 3),
    ],
)
def test_machine_references(
    normalize: Normalizer, text: str, kind: str | None, number: int
) -> None:
    ref = normalize(text).machine
    assert ref is not None
    assert (ref.kind, ref.number) == (kind, number)


@pytest.mark.parametrize(
    "text",
    [
        "how much for the dryer",  # "for" not after a machine word
        "is there a dryer for comforters",  # after a machine word, but not a number there
        "how much is a dryer for 30 minutes",
        "which one is free",  # "one" is a pronoun here
        "i want to go to the store",
        "are you open 24 hours",  # a bare number is not a machine
    ],
)
def test_no_false_machine_numbers(normalize: Normalizer, text: str) -> None:
    ref = normalize(text).machine
    assert ref is None or ref.number is None


def test_spelling_is_fixed_but_real_words_are_left_alone(normalize: Normalizer) -> None:
    assert "detergent" in normalize("detergant").words
    assert "available" in normalize("availible").words
    assert normalize("wsah").words == ("wash",)  # a swapped pair in a short word
    for word in ("tell", "tall", "weather"):  # one or two letters from a known word
        assert normalize(word).words == (word,)


def test_shop_without_rules_or_faq(tmp_path: pathlib.Path) -> None:
    data = yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))
    del data["rules"], data["faq"]
    path = tmp_path / "k.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    dialog = Dialog(load_knowledge(path))
    answer = dialog.answer("what are the rules", {}, AFTERNOON)
    assert answer.intent == "rules"
    assert answer.text.endswith(f"call {data['staff']['phone']}.")
    assert dialog.answer("what's the wifi password", {}, AFTERNOON).intent == "fallback"


def test_one_question_about_two_machines_is_asked_for_each(dialog: Dialog) -> None:
    machines = {7: status(7, FREE), 8: status(8, MachineState.BUSY, 25)}
    text = dialog.answer("are 7 and 8 free", machines, AFTERNOON).text.lower()
    assert "washer 7 is free" in text and "washer 8 is in use" in text
    # Not machines: counts and times are left alone.
    assert dialog._each_machine("i have 2 and 3 loads") == ["i have 2 and 3 loads"]


def test_a_machines_own_facts(dialog: Dialog) -> None:
    assert "at the back" in dialog.answer("where's machine 7", {}, AFTERNOON).text
    assert "large washer" in dialog.answer("what size is washer 5", {}, AFTERNOON).text
    assert "Washers 5 and 6" in dialog.answer("which washer for a comforter", {}, AFTERNOON).text


def test_how_long_or_when_after_an_owners_text_is_answered_from_it(dialog: Dialog) -> None:
    first = dialog.answer("where can I park", {}, AFTERNOON)
    again = dialog.answer("for how long", {}, AFTERNOON, first.state)
    assert "two hours" in again.text and "wash takes" not in again.text
    # A question with a topic of its own is not about the last answer.
    wash = dialog.answer("how long does a wash take", {}, AFTERNOON, first.state)
    assert "30 minutes" in wash.text


def test_staff_days_follow_up_and_the_weekend(dialog: Dialog) -> None:
    first = dialog.answer("when are staff in on saturday", {}, AFTERNOON)
    same = dialog.answer("same for sunday?", {}, AFTERNOON, first.state)
    assert "Sunday" in same.text and "10 AM" in same.text
    weekend = dialog.answer("what about the weekend", {}, AFTERNOON, first.state)
    assert "Saturday" in weekend.text and "Sunday" in weekend.text
    assert "Sunday" in dialog.answer("staff hrs sun", {}, AFTERNOON).text


def test_ordinals_and_a_number_heard_as_a_word_name_machines(dialog: Dialog) -> None:
    assert dialog.normalize("the sixth washer won't start").machine == MachineRef("washer", 6)
    assert dialog.normalize("is the 6th dryer free").machine == MachineRef("dryer", 6)
    assert dialog.normalize("first time here").machine is None
    asked = dialog.answer("my washer is broken", {}, AFTERNOON)
    assert asked.escalation is None
    # "for" is four where a machine number is expected.
    told = dialog.answer("for", {}, AFTERNOON, asked.state)
    assert told.escalation == "machine-broken" and told.machine == 4


def test_other_businesses_are_declined_unless_the_owners_texts_answer(dialog: Dialog) -> None:
    assert dialog.places == {"corner market": "corner market", "the market": "corner market"}
    market = dialog.answer("what time does the Corner Market close", {}, AFTERNOON)
    assert "don't know about the Corner Market" in market.text and market.escalation is None
    nearby = dialog.answer("till when is the market next door open", {}, AFTERNOON)
    assert "don't know about the Corner Market" in nearby.text
    assert "don't know" in dialog.answer("is there a mcdonalds nearby", {}, AFTERNOON).text
    assert "parking" in dialog.answer("is there parking nearby", {}, AFTERNOON).text
    assert "ATM" in dialog.answer("is there an atm nearby", {}, AFTERNOON).text


def test_how_big_asks_a_size_and_the_biggest_names_one(dialog: Dialog) -> None:
    price = dialog.answer("how much is a wash", {}, AFTERNOON)
    assert "$8" in dialog.answer("and the biggest one?", {}, AFTERNOON, price.state).text
    six = dialog.answer("is washer 6 free", {}, AFTERNOON)
    assert (
        "Washer 6 is a large washer"
        in dialog.answer("how big is it", {}, AFTERNOON, six.state).text
    )


def test_you_are_the_shop_when_asked_if_open(dialog: Dialog) -> None:
    for question in ("are you open right now", "r u open 2nite", "can I come at 3 in the morning"):
        assert "24 hours" in dialog.answer(question, {}, AFTERNOON).text, question


def test_a_later_piece_that_is_only_an_object_shares_the_predicate(dialog: Dialog) -> None:
    text = dialog.answer("how much are the washers and dryers", {}, AFTERNOON).text
    assert "$3.50" in text and "25 cents" in text


def test_a_problem_told_of_a_number_names_its_machine(dialog: Dialog) -> None:
    answer = dialog.answer("16 smells like something is burning", {}, AFTERNOON)
    assert answer.escalation is not None and answer.machine == 16


def test_a_yes_no_about_a_named_machine_asks_its_state(dialog: Dialog) -> None:
    times = dialog.answer("how long does drying take", {}, AFTERNOON)
    answer = dialog.answer("ok, and is dryer 9 open", {9: status(9, FREE)}, AFTERNOON, times.state)
    assert answer.intent == "machine-status" and answer.text.startswith("Yes, dryer 9 is free")
