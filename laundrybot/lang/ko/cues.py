"""Korean cues about a whole utterance (see dialog/cues.py), on the text as typed or recognised
(spacing unreliable, so most patterns allow an optional space)."""

from __future__ import annotations

import re
from decimal import Decimal

from laundrybot.dialog.cues import Cues, any_of
from laundrybot.lang.ko.numbers import native_number

_PROBLEM = any_of(
    r"먹었|먹어 ?버|삼켰|돈만|돈 ?넣었는데|동전 ?넣었는데|결제했는데|환불|돌려 ?주|돌려 ?받",
    r"두 ?번 ?결제|중복 ?결제|돈이 ?빠져|(결제|계산)\S{0,3}(됐|되었)는데",
    # Put in few words ("기계 안 돼요, 돈 없어졌어요").
    r"(돈|동전|요금)\S{0,2} ?(없어졌|없어짐|사라졌|사라짐|날아갔|날아감|날렸)",
    r"시작 ?(을|이)? ?안 ?(해|돼|되|하)",
    r"고장|망가|부서|안 ?돌아|작동 ?(을|이)? ?안|멈췄|멈춰|안 ?돼요$",
    r"새요|새고|누수|넘쳐|바닥에 ?물|물이 ?(안 ?빠|새|넘|쏟아)|물바다|물 ?천지",
    r"갇혔|갇혀|끼었|안 ?열려|안 ?나와|못 ?꺼내|잠겼",
    r"다쳤|다친|피가|불이 ?났|불 ?났|연기|타는 ?냄새|가스 ?냄새|감전",
    r"에러|오류|과열|안 ?뜨거|뜨겁지 ?않|안 ?말라|안 ?말려|안 ?말랐|이상한 ?소리|소음",
    r"젖은 ?채로?|(아직|다) ?젖어 ?(있|나와)|흠뻑 ?젖",
    r"찌릿|전기 ?(가|이)? ?(통|와|올랐|오르)|막혀|막혔|동전이 ?걸렸|열이 ?(\S{0,3} ?)?안 ?나|꺼졌"
    r"|꺼져 ?버|안 ?켜져|안 ?켜지|탄내|탄 ?냄새|쿵쾅|덜컹|흔들려|흔들리",
)
_PERSON = any_of(
    r"(직원|관리자|사장님?|담당자|사람|매니저)\S* ?(좀 ?)?(불러|호출|와 ?주)",
    r"직원 ?호출",
    r"사람\S* ?(얘기|이야기|통화|상담)",
    r"^도와 ?주세요|^도와줘|^살려",
    # Someone hurt needs a person, whatever machine is near.
    r"넘어져|넘어졌|넘어지|쓰러|기절|못 ?일어나|숨을 ?못|다치|다쳤",
    r"(일하시는|일하는|계신) ?분\S* ?(좀 ?)?(와|불러|오)",
)
_VAGUE = any_of(r"이상해|이상하|이상한데|문제가|문제 ?있|뭔가 ?잘못|잘못된 ?것 ?같|좀 ?그래")
# Urgent, or a danger to someone: filed at once, without asking which machine first.
_URGENT = re.compile(
    r"급해|급한|긴급|빨리|당장|다쳤|다친|다치|피가|피 ?나|넘어져|넘어졌|넘어지|쓰러"
    r"|불이 ?났|불 ?났|불이 ?붙"
    r"|연기|타는 ?냄새|가스|감전|찌릿|물바다|바닥에 ?물|물이 ?(넘|쏟아)|아이가|애가"
)
_HYPOTHETICAL = re.compile(
    r"(나|생기|있으|으|면|리)면 ?(누구|어디|어떻게|어떡|뭐)|경우에?는?|혹시 ?고장|만약"
    # "동전이 인식 안 되면 어떻게 해요", "안 뜨거우면 환불 받을 수 있어요": a condition, then
    # what to do or whether money comes back.
    r"|[가-힣]면 ?(어떻게|어떡|환불|돈 ?(돌려|받))"
    r"|어떻게 ?(받|하는|해야|신고)|(을|ㄹ) ?때 ?(뭐|뭘|어떻게)|때 ?뭘"
    # Refunds asked about, not a refund claimed: "환불은 멤버십 카드로 받을 수 있어요?"
    r"|^(그럼|그러면|그리고|근데)?환불(은|이|도|금은)?"
    r".*(카드|현금|언제|얼마나|어떻게|받을 ?수|되나|가능)"
)
_OUT_OF_SCOPE = any_of(
    r"피자|치킨|햄버거|음식|배달|커피|술|밥 ?시켜|야식|식당",
    r"택시|우버|버스|지하철|(?<!세탁|건조)기차|비행기|호텔",  # not "세탁기 차이"
    r"날씨|비 ?와요|비가 ?와|비 ?(온대|올까|오나|온다)|눈이 ?와|눈 ?와요|바깥 ?기온",
    r"노래|음악|농담|게임|뉴스|숙제",
    r"담배|복권",
    r"약국|병원|은행|경찰|우체국|주유소",
    r"드라이 ?클리닝|세탁소|다림질|수선",
)
_ACCEPT = re.compile(
    r"^(네|예|응|어|좋아요|그래요|알려 ?주세요|알려 ?줘|네 ?알려 ?주세요|네 ?좋아요"
    r"|네 ?부탁해요|부탁해요|듣고 ?싶어요)[.!? ]*$"
)
_FOLLOW_UP = re.compile(
    r"^(그럼|그리고|그러면|그건|또)|(은|는)요[.!? ]*$|(이|가)요[.!? ]*$|(은|는)\?+$"
)
_YES_NO = re.compile(
    r"^(?!.*(뭐|언제|몇|어디|얼마|어떻게|누구|어느|무슨|왜)).*(돼요|되나요|돼|있어요|"
    r"있나요|있어|해요|하나요|할 ?수 ?있|까요|나요|에요|예요|어요|아요|죠)[.!? ]*$"
    # "이불 들어가요?": asked only with the mark ("제가 3시쯤 가요." tells).
    r"|^(?!.*(뭐|언제|몇|어디|얼마|어떻게|누구|어느|무슨|왜)).*(가요|와요) ?\?[ ]*$"
)
_WHEN = re.compile(r"언제|몇 ?시")
_ASKS_BUSY = re.compile(r"사용 ?중|쓰는 ?중|이용 ?중|돌아가|돌고")
_ASKS_WORKING = re.compile(r"작동|고장")
_ASKS_STAFF = re.compile(r"직원|관리자|사장|담당자|관리하")

_CUT = re.compile(
    r"\s*(?:[?!;.]+|,)\s*(?:그리고\s*|또\s*)?|\s+그리고\s+|(?<=얼마)고\s+"
    r"|(?<=되)고\s+|(?<=있)고\s+|(?<=없)고\s+|(?<=비었)고\s+|(?<=걸리)고\s+|(?<=어떡하)고\s+"
    # A sentence ended without a mark ("돈 먹었어요 환불은 언제 돼요"): cut after its 요.
    r"|(?<=[어아여해돼워었았였했에예죠네])요\s+(?=\S)"
)


def split(text: str) -> list[str]:
    pieces = [p.strip() for p in _CUT.split(text)]
    return [p for p in pieces if p]


_LOADS = re.compile(r"(\d+|[가-힣]{1,3}?)\s*(?:번\s*분량|번\s*빨래|바구니|봉지|통)")


def load_count(text: str) -> int | None:
    """ "빨래 여섯 번 분량", "세 바구니", "두 번 분량": how many loads."""
    for found in _LOADS.finditer(text):
        said = found.group(1)
        if said.isdigit():
            return int(said)
        for i in range(len(said)):  # unspaced: "빨래여섯" ends in the number
            value = native_number(said[i:])
            if value is not None:
                return value
    return None


_COUNTED = re.compile(
    r"(?P<w>[가-힣]+)(?:\s*(?:세탁기|건조기|기계)\S{0,2})?\s*"
    r"(?P<n>\d{1,2}|한|두|세|네|다섯|여섯|일곱|여덟|아홉|열)\s*대(?![가-힣]*형)"
)


def counted(text: str) -> tuple[tuple[int, str, bool], ...]:
    """ "일반 두 대랑 대형 한 대", "그거 두 대": how many of what word, and whether "이나",
    "아니면" put it as the other choice."""
    out: list[tuple[int, str, bool]] = []
    end = 0
    for found in _COUNTED.finditer(text):
        count = _counted(found.group("n"))
        if count is None:
            continue
        between = text[end : found.start()]
        alternative = bool(out) and re.search(r"^나|이나|아니면|또는|혹은", between) is not None
        out.append((count, found.group("w"), alternative))
        end = found.end()
    return tuple(out)


_KO_CLOCK = re.compile(
    r"(오전|아침|새벽|오후|저녁|밤|낮)?\s*(\d{1,2})\s*시(?!간)(?:\s*(\d{1,2})\s*분|\s*반)?"
)


_KO_MONEY = re.compile(
    r"(\d+(?:\.\d+)?)\s*(?:달러|불)(?:\s*(\d\d)\s*센트)?|(\d+)\s*센트"
    r"|(?:쿼터|동전)\s*(\d+|[가-힣]{1,2}?)\s*개"
)
_KO_MINUTES = re.compile(
    r"(\d+|[가-힣]{1,2}?)\s*시간(\s*반)?"
    r"|(\d+)\s*분(?:\s*(?:동안|정도|쯤))?\s*(?:말리|돌리|건조|이면|하려면|쓰려면)"
)


_KO_WEIGHT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:파운드|lbs?)")
# "1파운드에 1달러 50센트", "2파운드에 3달러": a price for so many pounds.
_KO_PER_WEIGHT = re.compile(
    r"(\d+)\s*파운드\s*(?:에|당)\s*(?:(\d+)\s*달러(?:\s*(\d+)\s*센트)?|(\d+)\s*센트)"
)


def weight_given(text: str) -> Decimal | None:
    """ "40파운드", "10 lb": a weight said, in pounds."""
    found = _KO_WEIGHT.search(text)
    return None if found is None else Decimal(found.group(1))


def per_weight(text: str) -> Decimal | None:
    """ "1파운드에 1달러 50센트": the price of one pound, in dollars."""
    found = _KO_PER_WEIGHT.search(text)
    if found is None or int(found.group(1)) == 0:
        return None
    if found.group(2):
        money = Decimal(found.group(2)) + Decimal(found.group(3) or 0) / 100
    else:
        money = Decimal(found.group(4)) / 100
    return money / int(found.group(1))


def money_given(text: str) -> Decimal | None:
    """ "1달러", "50센트", "쿼터 네 개": the money offered, in dollars."""
    found = _KO_MONEY.search(text)
    if found is None:
        return None
    if found.group(1):  # "1달러 50센트": the cents after the dollars too
        return Decimal(found.group(1)) + Decimal(found.group(2) or 0) / 100
    if found.group(3):
        return Decimal(found.group(3)) / 100
    count = _counted(found.group(4))
    return None if count is None else count * Decimal("0.25")


def _counted(said: str) -> int | None:
    """A number before a counter, in digits or native words; unspaced text may run the word
    before into it ("로한" in "건조기로한시간"), so its last letters are read too."""
    if said.isdigit():
        return int(said)
    return next((n for i in range(len(said)) if (n := native_number(said[i:])) is not None), None)


def minutes_wanted(text: str) -> int | None:
    """ "한 시간", "1시간 반", "45분 말리려면": a drying time wanted, in minutes."""
    found = _KO_MINUTES.search(text)
    if found is None:
        return None
    if found.group(3):
        return int(found.group(3))
    hours = _counted(found.group(1))
    if hours is None:
        return None
    return hours * 60 + (30 if found.group(2) else 0)


def hour_asked(text: str) -> int | None:
    """ "밤 9시", "오전 10시 반", "자정": minutes after midnight. An hour said without 오전
    or 오후 is in the afternoon or evening up to 6 ("5시")."""
    if "자정" in text:
        return 0
    if "정오" in text:
        return 12 * 60
    found = _KO_CLOCK.search(text)
    if found is None:
        return None
    part, hour = found.group(1) or "", int(found.group(2))
    minute = int(found.group(3)) if found.group(3) else (30 if "반" in found.group(0) else 0)
    if hour > 24 or minute > 59:
        return None
    if (part in ("오후", "저녁", "밤", "낮") and hour < 12) or (not part and 1 <= hour <= 6):
        hour += 12
    return hour * 60 + minute


def bare_number(words: tuple[str, ...]) -> int | None:
    """Korean machine numbers come with 번 and are found by the normaliser; a lone digit
    string among the concepts is one too ("4요")."""
    for i, word in enumerate(words):
        after = words[i + 1] if i + 1 < len(words) else ""
        if after in _AMOUNTS:
            continue  # "3달러", "30분": an amount
        if word.isdigit() and int(word) < 100:
            return int(word)
    return None


_AMOUNTS = frozenset({"price", "minute", "hour", "money", "pound"})


_ITEMS = (
    (re.compile(r"세탁 ?대행|맡기|맡길|맡겨|맡겼|맡아 ?주|파운드"), "faq:wash-and-fold"),
    (
        re.compile(
            r"시트|유연제|세제\S* ?(깜빡|없|사|팔|얼마|필요|안 ?가져|놓고|써|쓰|사용)"
            r"|(어떤|무슨|뭐)\S{0,2} ?세제"
        ),
        "detergent",
    ),
    (
        re.compile(
            r"(양말|옷|물건|가방|짐|지갑|빨래|휴대폰|열쇠)\S* ?"
            r"(두고 ?갔|놓고 ?갔|두고 ?가면|놓고 ?가면|잃어버|깜빡|없어졌)"
            r"|분실물\S* ?(보관|얼마)|잃어버렸"
            # Any thing left behind ("담요를 두고 갔어요"), or never picked up.
            r"|\S(을|를) ?(두고|놓고) ?(갔|왔|나왔)|안 ?찾아가는 ?(물건|옷|빨래)|찾아가지 ?않은"
        ),
        "lost-and-found",
    ),
    (
        re.compile(
            r"결제.{0,6}(실패|안 ?돼|안 ?되|오류|거절)|카드.{0,6}(거절|안 ?돼|안 ?되|안 ?먹)"
            r"|동전\S{0,3} ?안 ?(올라|인식)"
        ),
        "payment-problem",
    ),
    (re.compile(r"처음"), "how-to-wash"),
    # Leaving a wash running and going out: the rule about unattended laundry.
    (
        re.compile(
            r"(돌려 ?놓고|넣어 ?두고|넣어 ?놓고|돌아가는 ?동안).{0,12}"
            r"(나갔|갔다|다녀|보고 ?와|와도)"
        ),
        "rule:unattended",
    ),
    # Breaking a bill: the change machine.
    (
        re.compile(
            r"(\d+|이십|십|오십|백) ?달러\S*.{0,12}(바꿀|바꿔|바꾸|잔돈|교환)|잔돈"
            r"|지폐\S*.{0,6}(바꿀|바꿔|교환)"
        ),
        "payment",
    ),
    # How many machines: what the machines are.
    (re.compile(r"몇 ?대"), "machine-info"),
    # Coming at an hour ("새벽 3시에 와도 돼요?"): whether the shop is open then.
    (re.compile(r"(새벽|한밤중|밤늦게|늦은밤|\d+시)\S{0,3}와도"), "hours"),
)

_NUMBER = r"\d{1,2}|[일이삼사오육칠팔구십]{1,3}"
# "7번이랑 8번", "7번하고 8번 세탁기", "칠 번 팔 번": one question about two machines.
_MACHINE_PAIR = re.compile(
    rf"(?P<a>{_NUMBER})\s*번\s*(?:이랑|랑|하고|이나|나|과|와|,|또는|및)?\s*(?P<b>{_NUMBER})\s*번"
)

# Read with the spaces taken out, like every Korean cue.
_ASKS_DURATION = re.compile(
    r"얼마동안|얼마나오래|몇시간|며칠|몇일|몇분|몇주|얼마나(보관|맡|기다|걸|있|세워|주차)"
    r"|얼마나빨리"
)
_SAYS_DURATION = re.compile(r"\d+(일|시간|분|주)|(한|두|세|네|몇)(시간|달|주)|이틀|사흘")
_SAYS_MOMENT = re.compile(r"다음날|내일|당일|오전|오후|\d+시(?!간)")

# Money the machine kept (read without spaces): paid, put in or charged, and it did not run.
_MONEY_LOST = any_of(
    r"(결제|계산|돈|동전|카드|요금)\S{0,3}(됐는데|되었는데|했는데|넣었는데|나갔는데|빠졌는데|찍혔는데)",
    r"먹었|먹어버|삼켰|돈만|두번결제|중복결제|돈이빠져",
    r"(돈|동전|요금)\S{0,2}(없어졌|없어짐|사라졌|사라짐|날아갔|날아감|날렸)",
)
# Asking whether a machine works: a question form, or a question mark.
_ASKS_BROKEN = re.compile(
    r"(고장|작동|멀쩡)\S*(나요|났나|난가|인가요|됐나|되나요|하나요|했나요|\?)$"
)

CUES = Cues(
    problem=_PROBLEM,
    person=_PERSON,
    vague_problem=_VAGUE,
    urgent=_URGENT,
    hypothetical=_HYPOTHETICAL,
    out_of_scope=_OUT_OF_SCOPE,
    accept=_ACCEPT,
    follow_up=_FOLLOW_UP,
    yes_no=_YES_NO,
    when=_WHEN,
    asks_busy=_ASKS_BUSY,
    asks_working=_ASKS_WORKING,
    asks_staff=_ASKS_STAFF,
    split=split,
    bare_number=bare_number,
    items=_ITEMS,
    # Read unspaced (see Cues.unstated): a discount or coupon, points, a weight in kilos.
    unstated=(
        (re.compile(r"할인|쿠폰|적립|포인트|가격(을)?맞춰"), ""),
        (re.compile(r"몇(킬로|키로|kg|파운드)|무게|(킬로|kg|파운드)까지"), "machine-info"),
        (re.compile(r"송풍|열없이|자연건조"), "how-to-dry"),
    ),
    asks=re.compile(r"\?|뭐|언제|몇|어디|얼마|어떻게|어떤|어때|누구|어느|무슨|왜"),
    machine_pair=_MACHINE_PAIR,
    object_pair=re.compile(
        r"^(?P<a>[가-힣A-Za-z]+(?:\s[가-힣A-Za-z]{2,})?)(?:이랑|랑|하고|이나|과|와)\s+"
        r"(?P<b>[가-힣A-Za-z]+)\s*(?P<rest>.*)$"
    ),
    asks_duration=_ASKS_DURATION,
    says_duration=_SAYS_DURATION,
    says_moment=_SAYS_MOMENT,
    largest=re.compile(r"(제일|가장|젤)(큰|커)|(^|[은는이가])큰(세탁기|건조기|거|것|기계)"),
    smallest=re.compile(r"(제일|가장|젤)(작은|작아)"),
    asks_week=re.compile(r"(무슨|몇|어떤|어느)요일|요일마다|요일별|매일|일주일내내"),
    asks_loads=re.compile(r"몇번분량|몇번빨래|몇바구니|몇회분"),
    elsewhere=re.compile(r"근처|주변에|근방|제일가까운|가장가까운"),
    yes="네, ",
    no="아니요, ",
    spaced=False,
    asks_count=re.compile(r"몇대"),
    # Read with the spaces taken out: "저는 ...", "제가 ...".
    tells=re.compile(r"^(저는|전|제가|저희는|저희가|나는|내가)"),
    back=re.compile(r"^(그때|그후|그뒤|그다음|그거|그것|그건|그럼)"),
    it=re.compile(r"(그거|그것|그건|그게|그 기계)"),
    announces=re.compile(
        r"^((아|그리고|참|근데|저|그럼) ?)*"
        r"(하나만 ?더|하나 ?더|질문 ?하나 ?(만 ?)?더?|마지막으로 ?하나|마지막 ?질문)"
        r"( ?(있는데요|있어요|요|물어볼게요|여쭤볼게요))?[.!? ]*$"
    ),
    asks_cheaper=re.compile(r"싸|저렴|비싸|가격차이"),
    asks_faster=re.compile(r"빨라|빠르|빠른|빨리|오래걸|더걸"),
    # Read with the spaces taken out: "다시말해주세요", "뭐라고요", "죄송한데한번더요".
    repeat=re.compile(
        r"(^|[,.!?])(죄송한데요?|죄송해요|죄송합니다|저기요?|네)?[,.!? ]*"
        r"(뭐라고(요|하셨어요|하셨죠)|(다시|한번더|한번만더)(한번|한번만)?(말해|말씀해|얘기해|해|천천히말해|천천히)?"
        r"(주세요|줄래요|주실래요|주시겠어요|줘요|줘|요)?|(잘)?못들었어요)[?.! ]*$"
    ),
    asks_for=re.compile(
        r"(시켜|불러|예약해|갖다|가져다|사다|사 ?와) ?(주세요|줘요|줘|주실 ?수|줄 ?수)"
    ),
    holiday=re.compile(r"크리스마스|성탄절|설날|설연휴|추석|명절|공휴일|연휴|빨간날"),
    money_lost=_MONEY_LOST,
    shop_opens=re.compile(r"문(을)?(몇시에)?(열|닫)|영업"),
    asks_latest=re.compile(r"(몇 ?시|언제)까지"),
    asks_soonest=re.compile(r"(제일|가장)?먼저(끝나|비|나와|끝날)|(제일|가장)빨리(끝나|비|끝날)"),
    asks_ending=re.compile(r"끝나|끝날|나와"),
    asks_have=re.compile(r"있(어요|나요|습니까|을까요|어)\??$"),
    use_anyway=re.compile(r"(계속|그냥|그래도)(써|쓰|사용|돌려|돌리)"),
    more_money=re.compile(r"(돈|동전|쿼터|카드)(을|를)?더(넣|내|찍)|다시(넣|결제|내)"),
    what_now=re.compile(
        r"^(그럼|이제|그러면|그럼이제)?(어떻게|어떡|뭘|뭐)(해야|하면|해요|하죠|할까|하나)"
    ),
    # Calling or texting, and a call picked up ("언제 받아요?" after the staff phone).
    calls=re.compile(r"전화|문자|연락|받아요|받나요|받으세요|받으시|받아 ?주"),
    asks_broken=_ASKS_BROKEN,
    says_broken=re.compile(r"고장"),
    asks_place=re.compile(r"어디|옆에뭐|근처에뭐"),
    says_place=re.compile(r"옆|뒤|앞|근처|입구|안쪽|표지판"),
    asks_price=re.compile(r"얼마|가격|비용|무료|공짜|유료"),
    says_money=re.compile(r"\d+ ?(달러|센트)|무료|공짜"),
    asks_name=re.compile(r"이름|성함|상호"),
    asks_need=re.compile(r"필요|있어야|해야|만 ?(돼|되|받)"),
    asks_closed=re.compile(r"닫|쉬어|쉬나|쉬는|휴무|문안열|안열어"),
    asks_identity=re.compile(
        r"(로봇|기계|컴퓨터|사람|인공지능|AI)(이에요|예요|이야|야|인가요|이세요|맞아요)\??$|누구(세요|야|예요)"
    ),
    other=re.compile(r"다른(거|것|건|기계|하나|세탁기|건조기|쪽|애)|나머지(하나|거|것|기계)?"),
    load_count=load_count,
    counted=counted,
    asks_total=re.compile(r"총|합계|합쳐|전부|모두|다 ?해서|더 ?싸"),
    hour_asked=hour_asked,
    money_given=money_given,
    minutes_wanted=minutes_wanted,
    asks_enough=re.compile(
        r"충분|모자라|모자랄|부족|(돼|되나|될까|되죠|됩니까|가능)(요|해요)?\??$"
    ),
    asks_coins=re.compile(r"(쿼터|동전)\S{0,3}몇"),
    weight_given=weight_given,
    per_weight=per_weight,
    # On the spaced text: the words up to the first one ending in 면 ("덜 말랐으면 ").
    condition=re.compile(r"^(?:\S+\s+)*?\S+(?<!라|려)면\s+"),
    # Read with the spaces taken out.
    compares=re.compile(
        r"(어느|어떤|뭐가|무슨)\S*(더|제일|가장|빨리|달라|다른가|다르)|차이|비교|쓸만|값어치|본전"
        r"|돈값"
        r"|(세탁기|건조기|거|게|것|건)\S{0,2}더(많|길|오래|싸|비싸|크|커|큰|좋|나아|나은|빨)"
    ),
)
