"""Cues: what a language unit tells the engine about a whole utterance, beyond its words.

The intent classifier says which topic an utterance is most like; cues say the things a topic
cannot: whether it is a yes/no or a "when" question, whether it states a real problem (only
then is a staff report filed), whether it asks for something the shop does not do at all
(pizza, a taxi, the weather), whether it is a bare follow-up ("and 8?", "what about sunday"),
where one utterance holds two requests (or one request about two machines), and which bare
number names a machine.

Each language unit builds one Cues (laundrybot/lang/<code>/cues.py) from regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

_NEVER = re.compile(r"(?!)")


@dataclass(frozen=True)
class Cues:
    # A stated problem that warrants a staff report: money taken, broken, leaking, stuck...
    problem: re.Pattern[str]
    # Asking for a person ("call staff", "i need help").
    person: re.Pattern[str]
    # A problem without what it is or which machine ("something's wrong with my machine").
    vague_problem: re.Pattern[str]
    urgent: re.Pattern[str]
    # Talk about a problem that has not happened ("who do i call if something breaks").
    hypothetical: re.Pattern[str]
    # Requests the shop does not serve: food, rides, weather, errands.
    out_of_scope: re.Pattern[str]
    # "yes", "sure", "ok tell me": accepting an offer.
    accept: re.Pattern[str]
    # "and ...", "what about ...": a follow-up that leans on the turn before.
    follow_up: re.Pattern[str]
    yes_no: re.Pattern[str]  # a question answered by yes or no
    when: re.Pattern[str]  # a "when / what time" question (never answered "Yes, ...")
    asks_busy: re.Pattern[str]  # "is it being used", "is it busy": yes means in use
    asks_working: re.Pattern[str]  # "is 6 working": yes means not out of order
    asks_staff: re.Pattern[str]  # staff, not the shop
    # The utterance cut where a new request may start ("... and how much is it").
    split: Callable[[str], list[str]]
    # A bare number that may name a machine ("is 6 free", "its number 3"), from the words.
    bare_number: Callable[[tuple[str, ...]], int | None]
    # Item cues: (pattern, intent) pairs checked before the classifier for things one word of
    # which would mislead it ("dryer sheets" is detergent, not a dryer price).
    items: tuple[tuple[re.Pattern[str], str], ...]
    # A question put with a question word or mark ("how", "what", "where", "?"), beyond yes/no
    # and "when" questions: a piece put so is never part of a problem statement.
    asks: re.Pattern[str]
    # Two machine numbers sharing one question ("are 7 and 8 free", "7번이랑 8번 비었어요?"),
    # groups ``a`` and ``b``: the question is asked once for each.
    machine_pair: re.Pattern[str]
    # Two things sharing one predicate where the cuts above do not see it ("와이파이랑 화장실
    # 있어요?"): groups ``a``, ``b`` and ``rest``, asked as "a rest" and "b rest"; with a group
    # ``pre`` (the predicate before them: "is there a bathroom or an atm"), "pre a rest".
    object_pair: re.Pattern[str]
    # "how long", "for how long", "얼마 동안": a question whose answer is a length of time.
    asks_duration: re.Pattern[str]
    # What an answer's sentence holds: a length of time ("for up to two hours", "30 days"),
    # a moment ("ready the next day", "8 PM"). A follow-up asking how long or when after an
    # owner's text ("where can I park" - "for how long") is answered by the sentence so put.
    says_duration: re.Pattern[str]
    says_moment: re.Pattern[str]
    # Asking about places around the shop ("is there a mcdonalds nearby"): declined unless the
    # owner's texts answer it (parking, an ATM next door).
    elsewhere: re.Pattern[str]
    # "the biggest one", "제일 큰 거": the largest size of the kind talked about; and the least.
    largest: re.Pattern[str]
    smallest: re.Pattern[str]
    # "what days are staff in", "무슨 요일에 있어요": the days of the week asked, each of them.
    asks_week: re.Pattern[str]
    # "how many loads does it take", "몇 번 분량": how many loads a machine holds.
    asks_loads: re.Pattern[str]
    yes: str  # "Yes, "
    no: str  # "No, "
    # False: the patterns read the text with its spaces taken out (Korean spacing is
    # unreliable, and a recogniser writes "물 이 새 요" for "물이 새요").
    spaced: bool = True
    # A payment the machine kept ("it charged me and isn't running", "결제됐는데 안 돌아가요"):
    # money taken, not a card the reader refused.
    # Asking to hear the last reply again ("sorry, say that again?", "다시 말해 주세요"): the
    # whole utterance, after any thanks or greeting.
    repeat: re.Pattern[str] = field(default=_NEVER)
    # Two sizes weighed by their price or their time ("which is cheaper, ... and by how
    # much", "which is faster"): the difference is said too.
    asks_cheaper: re.Pattern[str] = field(default=_NEVER)
    asks_faster: re.Pattern[str] = field(default=_NEVER)
    money_lost: re.Pattern[str] = field(default=_NEVER)
    # Paying again asked ("should I put more money in", "돈 더 넣어도 돼요?"): once a problem is
    # reported, no, and what to do about the machine.
    more_money: re.Pattern[str] = field(default=_NEVER)
    # Using a machine anyway asked ("should I keep using it", "계속 써도 돼요?"): once it is
    # reported, no, as paying again is.
    use_anyway: re.Pattern[str] = field(default=_NEVER)
    # What to do now asked ("what should I do", "now what", "이제 어떻게 해요"): once a problem
    # is reported, what to do about it (keep clear of the machine; how money comes back).
    what_now: re.Pattern[str] = field(default=_NEVER)
    # What is dropped when a question about two machines is asked of each ("are washers 7 and
    # 8 both busy": "are washer 7 busy"): a plural's ending before one number, "both".
    of_two: re.Pattern[str] = field(default=_NEVER)
    # Calling or texting the staff said ("when can I call"): asked when, the phone's note
    # (urgent calls any time) is said too.
    calls: re.Pattern[str] = field(default=_NEVER)
    # A limit per customer asked ("how many washers can one person use at once", "is there a
    # limit per customer"): a rule the shop's facts do not give, declined.
    per_person: re.Pattern[str] = field(default=_NEVER)
    # A yes/no question whether a machine works ("is washer 4 broken?", "4번 고장 났어요?"):
    # answered from the machine's state, never a report.
    asks_broken: re.Pattern[str] = field(default=_NEVER)
    # The words of those that ask "broken?" rather than "working?": yes means out of order.
    says_broken: re.Pattern[str] = field(default=_NEVER)
    # "the other one", "다른 거": the one other machine like the one talked about.
    other: re.Pattern[str] = field(default=_NEVER)
    # "where", "is it next to anything": a place asked; "how much", "얼마": a price asked. After
    # an owner's text, the sentence that says a place (``says_place``) or an amount
    # (``says_money``) answers it ("do you sell detergent" - "how much?").
    asks_place: re.Pattern[str] = field(default=_NEVER)
    says_place: re.Pattern[str] = field(default=_NEVER)
    asks_price: re.Pattern[str] = field(default=_NEVER)
    says_money: re.Pattern[str] = field(default=_NEVER)
    # "what's the name of this place", "the owner's name": a name asked; the shop's is known,
    # a person's is not.
    asks_name: re.Pattern[str] = field(default=_NEVER)
    # "do I need coins", "동전 있어야 돼요?": a way to pay asked as the only one.
    asks_need: re.Pattern[str] = field(default=_NEVER)
    # "are you closed on sunday", "일요일에 쉬어요?": yes means closed, not open.
    asks_closed: re.Pattern[str] = field(default=_NEVER)
    # "are you a robot", "who am I talking to", "로봇이에요?": what the attendant is.
    asks_identity: re.Pattern[str] = field(default=_NEVER)
    # Sizes weighed against each other ("which dryer gives more time per quarter", "is the
    # big washer worth it", "어느 게 더 싸요"): every size of the kind, side by side.
    compares: re.Pattern[str] = field(default=_NEVER)
    # The condition of a request put with one ("can I add time if they're still wet", "덜
    # 말랐으면 시간 추가돼요?"): matched on the spaced text, it is cut off, and what is left
    # is the request, when that is a yes/no question of its own about no problem.
    condition: re.Pattern[str] = field(default=_NEVER)
    # How many loads a text says ("six loads", "빨래 여섯 번 분량"), in a question or a size's
    # description: the washer that holds them.
    load_count: Callable[[str], int | None] = field(default=lambda text: None)
    # Machines counted in a price question ("two regulars plus one large", "two of them",
    # "일반 두 대랑 대형 한 대"): (how many, the word counted, whether "or" puts it as the
    # other choice to the one before), in order. The word is a size's name, a kind's, or one
    # naming none ("machines", "them"): the size named elsewhere, or the one talked about.
    counted: Callable[[str], tuple[tuple[int, str, bool], ...]] = field(default=lambda text: ())
    # A total asked beyond "how much" ("what's my total", "what will that run me", "모두 해서").
    asks_total: re.Pattern[str] = field(default=_NEVER)
    # Money offered for drying ("what does a dollar get me", "with 4 quarters", "1달러면"), in
    # dollars, and a drying time wanted ("to dry for an hour", "45분 말리려면"), in minutes:
    # worked out from each dryer's price for its minutes.
    money_given: Callable[[str], Decimal | None] = field(default=lambda text: None)
    minutes_wanted: Callable[[str], int | None] = field(default=lambda text: None)
    # Whether money offered covers a price ("is five bucks enough for a large", "can I afford
    # the giant with $6", "5달러면 충분해요?"): each size asked, covered or not.
    asks_enough: re.Pattern[str] = field(default=_NEVER)
    # A price asked in coins ("how many quarters is a wash", "쿼터 몇 개"): the price counted in
    # the coins the shop takes (a quarter, 25 cents).
    asks_coins: re.Pattern[str] = field(default=_NEVER)
    # A weight said ("about 40 pounds", "10 lbs", "40파운드"), in pounds, and a price per pound
    # in an owner's text ("1 dollar 50 a pound", "1파운드에 1달러 50센트"): the weight priced.
    weight_given: Callable[[str], Decimal | None] = field(default=lambda text: None)
    per_weight: Callable[[str], Decimal | None] = field(default=lambda text: None)
    # The hour a question asks about ("at 7 in the evening", "at midnight", "밤 9시"), in
    # minutes after midnight: whether staff are in then.
    hour_asked: Callable[[str], int | None] = field(default=lambda text: None)
    # What the recogniser wrote, as the patterns read it: numbers in words where the words
    # around make them one ("at three in the morning" -> "at 3 in the morning"), slips that
    # change the meaning ("weird can I park" -> "where can I park").
    reads: Callable[[str], str] = field(default=lambda text: text)
    # Words before a bare number that put a problem on that machine ("the screen on 7 says
    # error"), as a number opening a problem does ("16 smells like burning").
    on_machine: frozenset[str] = frozenset()
    # Asking leave ("can I add time", "may we ..."), and an answer that grants it ("You can add
    # more time while it runs"): yes.
    # Clothes not dry yet ("still damp", "a bit wet"): put as a what-if, more drying time.
    not_dry: re.Pattern[str] = field(default=_NEVER)
    # "how many dryers are there", "건조기 몇 대": how many machines of a kind.
    asks_count: re.Pattern[str] = field(default=_NEVER)
    # Which machine frees up first ("which one finishes first", "제일 먼저 끝나는 거"): the free
    # machines, or, none being free, the one ending soonest.
    asks_soonest: re.Pattern[str] = field(default=_NEVER)
    # Of those, the ones asking which running machine ends first ("which finishes first",
    # "먼저 끝나는 거"), not which is free: the one ending soonest, whatever is free.
    asks_ending: re.Pattern[str] = field(default=_NEVER)
    # Whether a thing is here asked ("is there a folding table", "do you have ...", "있어요?"):
    # a thing no topic names but an owner's sentence does is answered by that sentence.
    asks_have: re.Pattern[str] = field(default=_NEVER)
    may_i: re.Pattern[str] = field(default=_NEVER)
    grants: re.Pattern[str] = field(default=_NEVER)
    # The asker telling of themselves ("I work till 7 on saturdays", "저는 ..."): said before a
    # question about it ("..., will anyone be here after that"), it is that question's time or
    # thing, not a request.
    tells: re.Pattern[str] = field(default=_NEVER)
    # Words pointing back at what was just said ("after that", "그때", "그 후에"), beyond the
    # pronouns the normaliser keeps.
    back: re.Pattern[str] = field(default=_NEVER)
    # The word a later part of an utterance points back at the thing of the part before with
    # ("does washer 3 take cards, and how much is it", "3번 카드 돼요? 그거 얼마예요?"): a
    # machine named there is put in its place.
    it: re.Pattern[str] = field(default=_NEVER)
    # A holiday ("on christmas", "추석에"): the staff hours are per weekday, none for holidays.
    holiday: re.Pattern[str] = field(default=_NEVER)
    # A request put to the attendant to do something for the asker, not as a question ("book
    # me a table", "can you get me a burger", "택시 불러 주세요"): asked, though no question.
    asks_for: re.Pattern[str] = field(default=_NEVER)
    # A piece that only says another question is coming ("oh, one more thing", "quick
    # question", "하나만 더"): no request of its own, left out when cutting.
    announces: re.Pattern[str] = field(default=_NEVER)
    # The latest time something may be done asked ("how late can I start a load", "by what
    # time do I have to put it in", "몇 시까지 돌릴 수 있어요"): the shop's hours and their note.
    asks_latest: re.Pattern[str] = field(default=_NEVER)
    # The shop opening or closing ("when do you open in the morning", "문 몇 시에 열어요"): the
    # shop's hours, not the staff's, when no person is asked about.
    shop_opens: re.Pattern[str] = field(default=_NEVER)

    # Things a customer asks that only an owner's text could say, with the topic whose answer
    # tells what is known instead ("" for the classifier's pick): a discount or price match, a
    # machine's weight in pounds (machine-info: what it holds in loads), a setting beyond heat
    # ("air dry"), a temperature for a fabric. Unless an owner's sentence says the words
    # matched, the answer is "I don't know" and the one sentence of that topic that is known.
    unstated: tuple[tuple[re.Pattern[str], str], ...] = ()

    def text(self, utterance: str) -> str:
        """The utterance as the patterns read it."""
        utterance = self.reads(utterance)
        return utterance if self.spaced else utterance.replace(" ", "")


def any_of(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns))
