"""What the attendant says in Korean: the answer templates and how numbers, money, times and
lists are said (see dialog/wording.py for the Wording they fill in).

Templates mark particles as "(이)가", "(은)는", "(을)를", "(으)로", "(이)에요", "(이)고": the
right form depends on the sound before it (a final consonant or not), which is only known once
a name, price or phone number is filled in; korean_particles resolves them on the whole answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from laundrybot.dialog.wording import Wording, _runs

# A particle marker -> (after a final consonant, after a vowel). "(으)로" also takes 로 after ㄹ.
_PARTICLES = {
    "(이)가": ("이", "가"),
    "(은)는": ("은", "는"),
    "(을)를": ("을", "를"),
    "(과)와": ("과", "와"),
    "(으)로": ("으로", "로"),
    "(이)에요": ("이에요", "예요"),
    "(이)고": ("이고", "고"),
}
_PARTICLE = re.compile("|".join(re.escape(m) for m in _PARTICLES))
# Final sound of a digit read the Sino-Korean way: 일 이 삼 사 오 육 칠 팔 구 (0 = 영).
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "3": "ㅁ", "6": "ㄱ", "7": "ㄹ", "8": "ㄹ"}
_RIEUL = 8  # index of ㄹ among the 28 final-consonant slots of a Hangul syllable


def _final(text: str) -> str | None:
    """The final consonant of the last spoken syllable ("" for a vowel), None if unknown."""
    stripped = text.rstrip(" '\"”’)]")
    if not stripped:
        return None
    last = stripped[-1]
    if "가" <= last <= "힣":
        index = (ord(last) - 0xAC00) % 28
        return "" if index == 0 else ("ㄹ" if index == _RIEUL else "other")
    if last.isdigit():
        digits = re.findall(r"\d+$", stripped)[0]
        if digits.endswith("0") and digits.strip("0"):
            return "other"  # 십, 백, 천, 만 all end in a consonant
        return _DIGIT_FINAL.get(last, "")
    return None


def korean_particles(text: str) -> str:
    """Resolve "(이)가"-style markers by the sound before each one."""

    def pick(match: re.Match[str]) -> str:
        with_final, without = _PARTICLES[match.group()]
        final = _final(text[: match.start()])
        if final is None:
            return without
        if match.group() == "(으)로" and final == "ㄹ":
            return "로"
        return with_final if final else without

    return _PARTICLE.sub(pick, text)


def _ko_money(amount: Decimal) -> str:
    """ "3달러 50센트", "8달러", "25센트": said the way a Korean speaker reads a dollar price."""
    dollars, cents = divmod(int(amount * 100), 100)
    if dollars and cents:
        return f"{dollars}달러 {cents}센트"
    return f"{dollars}달러" if dollars else f"{cents}센트"


def _ko_time(minute: int) -> str:
    minute %= 1440
    hour, mins = divmod(minute, 60)
    if minute == 0:
        return "자정"
    if minute == 720:
        return "정오"
    part = "오전" if hour < 12 else "오후"
    said = f"{part} {hour % 12 or 12}시"
    return said if mins == 0 else f"{said} {mins}분"


def _ko_join_or(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " 또는 " + words[-1]


def _ko_number_list(numbers: list[int]) -> str:
    if len(numbers) > 6:
        return f"{', '.join(str(n) for n in numbers[:5])}번 외 {len(numbers) - 5}대"
    return ", ".join(str(n) for n in numbers) + "번"


def _ko_number_ranges(numbers: list[int]) -> str:
    """[1,2,3,4,9] -> "1번부터 4번까지, 9번"."""
    return ", ".join(
        f"{r[0]}번부터 {r[-1]}번까지" if len(r) > 2 else ", ".join(f"{n}번" for n in r)
        for r in _runs(numbers)
    )


# 말로 하면 두 문장 이내: 신고 문장은 한 문장으로.
_KO_CALL_STAFF = "직원 호출을 기록해 두었고, 바로 연락하시려면 {phone}(으)로 전화나 문자 주세요. "
_KO_MONEY_TAKEN = "직원에게 신고를 기록해 두었고, 급한 일은 {phone}(으)로 연락 주세요."
_KO_MACHINE_BROKEN = "직원에게 기록해 두었고, 급한 일은 {phone}(으)로 연락 주세요."

KOREAN = Wording(
    language="ko",
    kinds={"washer": "세탁기", "dryer": "건조기", "machine": "기계"},
    day_names=("월요일", "화요일", "수요일", "목요일", "금요일", "토요일", "일요일"),
    money=_ko_money,
    minutes=lambda n: f"{n}분",
    time=_ko_time,
    join_and=lambda items: ", ".join(items),
    join_or=_ko_join_or,
    number_list=_ko_number_list,
    number_ranges=_ko_number_ranges,
    plural=lambda kind, n: kind,
    finish=korean_particles,
    templates={
        "machine": "{number}번 {kind}",
        # a predicate, since answers say "5번 세탁기는 <description>."
        "default_description": "{size} {kind}예요",
        "the_kind": "{kind}",
        "today": "오늘",
        "tomorrow": "내일",
        "on_day": "{day}",
        "range": "{low}에서 {high}",
        "where": " {location}.",
        "alt_same": "같은 크기의 ",
        "alt_free": "{same}{name}(이)가 비어 있어요.{where}",
        "alt_none_free": "지금 비어 있는 다른 {kinds}(은)는 없어요. {soonest}.",
        "alt_unknown": "지금은 비어 있는 다른 {kind}(이)가 없어 보여요. 기계 화면을 확인해 주세요.",
        "soonest_now": "{name}(이)가 곧 끝날 거예요",
        "soonest": "{name}(이)가 {minutes}쯤 뒤에 끝날 거예요",
        "staff_always": "직원이 24시간 있어요.",
        "staff_until": "직원은 보통 {time}까지 있어요.",
        "staff_none": "지금은 매장에 직원이 없어요.",
        "staff_next": "지금은 매장에 직원이 없어요. 직원은 {day} {time}에 와요.",
        "urgent": "급한 일은 {phone}(으)로 전화나 문자 주세요.",
        "staff_contact": "직원에게 {phone}(으)로 전화나 문자하실 수 있어요.",
        "greeting": (
            "안녕하세요, {shop}에 오신 걸 환영해요! 가격, 빈 기계, 기계 사용법을 물어보세요."
        ),
        "thanks": "천만에요! 더 궁금한 게 있으면 언제든 물어보세요.",
        "identity": (
            "저는 {shop}의 안내 도우미로, 사람이 아니라 컴퓨터예요. 직원이 필요하면 "
            "직원 호출이라고 말씀해 주세요."
        ),
        "per_wash": "세탁은",
        "per_dry": "건조는",
        "machine_info": "{name}(은)는 {description}.{where}",
        "size_machines": "{numbers} {kinds}(은)는 {description}.{where}",
        "machine_count": "{kinds}(은)는 모두 {count}대예요.",
        "price_machine": "{name}(은)는 {description}. {per} {money}에 {minutes}분이에요.",
        "prices_all": (
            "세탁은 세탁기 크기에 따라 {wash}(이)고, 건조는 {dry_minutes}분에 {dry}(이)에요. "
            "크기별 가격도 물어보세요."
        ),
        "price_wash_item": "{size} 세탁기 {money}",
        "price_wash_one": "세탁은 {items}(이)고, {minutes}분 걸려요.",
        "price_wash": "세탁은 {items}(이)에요.",
        "compare_wash_item": "{money}에 {minutes}분 걸리는 {description}.",
        "count_item": "{size} {kinds} {count}대",
        "counted_total": "{items}면 모두 {total}(이)에요.",
        "counted_each": "{item}: {money}.",
        "counted_choice": "{cheaper}(이)가 {money}(으)로, {other}인 {dearer}보다 {less} 싸요.",
        "same_price": "가격은 같아요: {items}.",
        "cheaper_by": "{size} {kind}가 {money} 더 싸요.",
        "faster_by": "{size} {kind}가 {minutes}분 더 빨라요.",
        "same_choice": "{first}(과)와 {second}(은)는 {money}(으)로 같아요.",
        "enough_item": "{size} 세탁({money})",
        "enough_all": "네, {money}면 {items}(이)가 돼요.",
        "enough_none": "아니요, {money}(으)로는 {items}에 모자라요.",
        "enough_some": "{money}면 {covered}(은)는 되지만 {short}(은)는 모자라요.",
        "coins_item": "{size} 세탁 {money}(은)는 쿼터 {coins}개",
        "coins": "{items}예요.",
        "weight_priced": "{weight}파운드면 1파운드에 {rate}씩 모두 {total}(이)에요.",
        "weight_item": "{weight}파운드 맡기기",
        "price_dry_item": "{size} 건조기 {minutes}분에 {money}",
        "price_dry": "건조는 {items}(이)고, 시간은 더 추가할 수 있어요.",
        "dry_bought_item": "{size} 건조기 {minutes}분",
        "dry_bought": "{money}(이)면 {items} 돌아가요.",
        "dry_for": "{wanted}분 말리려면 {items}(이)에요.",
        "cycle_wash_item": "{size} 세탁기 {minutes}분",
        "cycle_wash": "세탁은 {items} 걸려요.",
        "cycle_dry": (
            "건조기는 {price}에 {minutes}분 돌아가고, 다 마를 때까지 시간을 추가할 수 있어요."
        ),
        "hours_always": "연중무휴 24시간 영업해요.",
        "hours_day_always": "{day}에도 24시간 영업해요.",
        "hours_day_closed": "{day}에는 문을 닫아요.",
        "hours_day_open": "{day}에는 {start}부터 {end}까지 영업해요.",
        "open_until": "지금 영업 중이고 {time}까지 해요.",
        "staff_day": "{day}에는 직원이 {start}부터 {end}까지 있어요.",
        "staff_not_then": "그 시간에는 직원이 없어요.",
        "staff_days": "{first}부터 {last}까지는 직원이 {start}부터 {end}까지 있어요.",
        "staff_day_none": "{day}에는 매장에 직원이 없어요.",
        "closed": "지금은 영업시간이 아니에요.",
        "closed_next": "지금은 영업시간이 아니에요. {day} {time}에 문을 열어요.",
        "address": "{shop}(은)는 {address}에 있어요.",
        "no_address": "여기는 {shop}(이)에요. 오시는 길은 {phone}(으)로 직원에게 물어보세요.",
        "payment": "{methods}(으)로 결제할 수 있어요.",
        "lost": "{text} 거기에 없으면 {phone}(으)로 직원에게 전화나 문자 주세요.",
        "no_rules": "특별한 규칙은 없어요. 궁금한 점은 {phone}(으)로 전화 주세요.",
        "which_machine": (
            "몇 번 기계인가요? 번호는 기계 앞면에 적혀 있고, 남은 시간은 기계 화면에 나와요."
        ),
        "wrong_kind": (
            "{number}번은 {said}(이)가 아니라 {kind}(이)에요. {saids}(은)는 {ranges}(이)에요. "
        ),
        "no_status": (
            "지금은 {name}의 상태를 알 수 없어요. 돌아가는 중인지, 몇 분 남았는지는 "
            "기계 화면에 나와요."
        ),
        "is_free": "{name}(은)는 지금 비어 있어요.{where}",
        "out_of_order": "죄송해요, {name}(은)는 고장 났어요. ",
        "busy": "{name}(은)는 사용 중이에요. 남은 시간은 기계 화면에 나와요.",
        "busy_finishing": "{name}(은)는 곧 끝날 거예요. 기계 화면을 확인해 주세요.",
        "board_out_of_order": "{name}(은)는 고장 났어요.",
        "busy_left": "{name}(은)는 사용 중이고, {minutes}쯤 남았어요.",
        "kind_ranges": "{kinds}(은)는 {ranges}",
        "kinds_joiner": ", ",
        "no_such_machine": (
            "여기에는 {number}번 기계가 없어요. {ranges}(이)에요. "
            "번호는 기계마다 앞면에 적혀 있어요."
        ),
        "no_status_all": ("지금은 기계 상태를 알 수 없어요. 비어 있는지는 기계마다 화면에 나와요."),
        "free_item": "{kinds} {numbers}",
        "free_now": "지금 비어 있는 기계는 {items}(이)에요.",
        "none_free": "지금 비어 있는 {kinds}(은)는 없어요.",
        "none_free_soonest": "지금 비어 있는 {kinds}(은)는 없어요. {soonest}.",
        "unknown_some": "{count}대는 상태를 알 수 없으니 기계 화면도 확인해 주세요.",
        "call_staff": _KO_CALL_STAFF,
        "about_machine": "{name} 일로 ",
        "money_taken_sorry": "{about}불편을 드려 죄송해요, {note}(을)를 적어 두세요. ",
        "money_taken_recorded": _KO_MONEY_TAKEN,
        "instead": " 다른 기계가 필요하시면 {name}(이)가 비어 있어요.",
        # What to do meanwhile (the owner's text: no more money, stay clear of water) is said
        # in Korean too, as in English.
        "machine_broken_sorry": "{which} 일로 불편을 드려 죄송해요.{instead} {broken} ",
        "machine_broken_recorded": _KO_MACHINE_BROKEN,
        "staff_messaged": "직원에게 메시지를 보냈어요. 보통 {minutes} 안에 답이 와요. ",
        "staff_messaged_no_time": "직원에게 메시지를 보냈어요. 최대한 빨리 답이 올 거예요. ",
        "staff_already": "이 일은 직원에게 이미 메시지가 갔어요. 보통 {minutes} 안에 답이 와요. ",
        "staff_already_no_time": "이 일은 직원에게 이미 메시지가 갔어요. ",
        "fallback_unclear": "죄송해요, 그건 제가 도와드리기 어려워요.",
        "dont_know_but": "죄송해요, 그건 잘 모르겠어요. {known}",
        "dont_know": "죄송해요, 그건 잘 모르겠어요.",
        "holiday_staff": "죄송해요, 공휴일 직원 근무 시간은 잘 모르겠어요. {phone}로 전화나 문자로"
        " 물어보세요.",
        "cant_do": "죄송해요, 그건 제가 할 수 없어요.",
        "other_place": "죄송해요, {place} 일은 잘 모르겠어요. 이 빨래방 일만 알려 드릴 수 있어요.",
        "places_nearby": (
            "죄송해요, 근처 다른 가게는 잘 모르겠어요. 이 빨래방 일만 알려 드릴 수 있어요."
        ),
        "can_help": "가격, 영업시간, 빈 기계, 기계 고장 같은 건 도와드릴 수 있어요.",
        "clarify": "잘 모르겠어요. {a}, {b} 중 어떤 걸 물어보신 건가요?",
        "refunds": (
            "기계가 돈을 먹으면 돈을 더 넣지 마시고, {note}(을)를 적어 두고 직원에게 알려 주세요. "
            "{refund}"
        ),
        "problem_help": (
            "기계가 고장 나거나 물이 새면 기계 번호를 말씀해 주세요. 직원에게 신고해 둘게요. "
            "{broken} {urgent}"
        ),
        "ask_problem_machine": "불편을 드려 죄송해요. 몇 번 기계인가요? 번호는 기계 앞면에 있어요.",
        "report_machine": "감사해요, {name}(을)를 직원 신고에 추가했어요.",
        "report_no_machine": "여기에는 {number}번 기계가 없어요. 몇 번 기계인가요?",
        "more_steps": "나머지 단계도 알려 드릴까요?",
        "topic:prices": "가격",
        "topic:machine-info": "기계 고르기",
        "topic:cycle-times": "세탁 시간",
        "topic:hours": "영업시간",
        "topic:staff-contact": "직원 연락",
        "topic:address": "위치",
        "topic:payment": "결제 방법",
        "topic:payment-problem": "결제 문제",
        "topic:how-to-wash": "세탁기 사용법",
        "topic:how-to-dry": "건조기 사용법",
        "topic:detergent": "세제",
        "topic:lost-and-found": "분실물",
        "topic:rules": "이용 규칙",
        "topic:machine-status": "기계 상태",
        "topic:free-machines": "빈 기계",
        "fallback_unheard": "죄송해요, 잘 못 알아들었어요.",
        "fallback": (
            "{opening} 가격, 영업시간, 빈 기계, 기계 사용법을 알려 드릴 수 있어요. "
            "사람이 필요하시면 직원 불러 달라고 말씀해 주세요."
        ),
    },
)
