"""Korean normalisation: a typed or recognised Korean question -> the same Normalized as English.

Korean needs a different pipeline, because of what we get:
  - spacing is unreliable: people type "세탁기3번비었어요", the Vosk Korean model writes its own
    pieces ("비어 있어 요", "얼마 예요"). So after numbers are found, spaces are dropped and the
    text is cut by longest match against a lexicon (below), which gives the same pieces however
    it was spaced.
  - particles and endings (은/는/이/가/을/를/에, 어요/나요/습니다...) are glued to words. They
    are lexicon entries that carry no meaning, so they are cut off and dropped.
  - machine numbers are said in Sino-Korean (삼 번, 십이 번), in native numbers next to a machine
    word (세탁기 셋), or as digits; "이 세탁기" is "this washer" and "한 번" is "once", so the
    ambiguous words count only where a number fits (see _machine_number).
  - typos and recognition slips are corrected syllable-by-jamo against the known words
    ("셰탁기" -> "세탁기"), using the English Speller on decomposed jamo.

Lexicon entries map to concept tokens, shared with the English side where the engine looks at
words ("how", "tomorrow", "monday", "coin"), so the engine's rules work for both languages.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

from laundrybot.dialog.normalize import NUM, MachineRef, Normalized, Speller, word_set
from laundrybot.lang.ko.numbers import native_number, sino_number

MACHINE_WORDS = {"세탁기": "washer", "건조기": "dryer", "기계": None}

# Number words that are also everyday words: "이" (this), "일" (work), "사" (buy), "오" (come),
# "구", "열" (open), "한/두/세/네" (a/two/three/four of something), "네" (yes).
_AMBIGUOUS = word_set("이 일 사 오 구 열 한 두 세 네 석 넉 공 영")
_COUNTERS = ("번째", "번")

# Glued forms split before tokenising: "3번세탁기" -> "3 번 세탁기".
_SPLIT_MACHINE = re.compile("(" + "|".join(MACHINE_WORDS) + ")")
_SPLIT_COUNTER = re.compile(
    r"([0-9]+|[영공일이삼사오육칠팔구십백]+|몇|(?:열|스물)?(?:한|두|세|네|다섯|여섯|일곱|여덟|아홉)"
    r"|열|스물)\s*(번째|번)(?!호|지)"
)
_SPLIT_DIGITS = re.compile(r"(?<=\d)(?=\D)|(?<=\D)(?=\d)")
_NOT_WORD = re.compile(r"[^0-9a-z가-힣]+")

# The lexicon: "concepts: surface forms". A surface is matched by longest match anywhere in
# the unspaced text, so list the longer forms that must win ("분실물" before "분", "안녕" before
# "안"). Several concepts after the colon are all emitted ("사용법" is "use" + "how").
# Concepts named like the English canonical words keep the engine's checks language-free.
_LEXICON = """
hi: 안녕 안녕하세요 안녕하십니까 반가워 반갑 여보세요 저기요 여기요 하이
thanks: 감사 감사합니다 고마워 고맙 고맙습니다 수고 땡큐
wash: 세탁 빨 빨아 빨래하
laundry: 빨래 세탁물
dry: 건조 말리 말려 마르 말라 드라이
washer: 세탁기
dryer: 건조기
machine: 기계
price: 얼마 가격 요금 비용 값 비싸 비싼 싸요 싼 가격표
howmuch: 얼마나
money: 돈 금액
price: 센트 달러
coin: 동전 쿼터 코인
change: 잔돈 교환 교환기 바꿔 바꾸 바꿀 거스름돈
card: 카드 신용카드 체크카드
phonepay: 휴대폰결제 삼성페이 애플페이 페이 터치 모바일 핸드폰 휴대폰 폰
cash: 현금
pay: 결제 계산 지불 내야 내요 내나요
top: 충전
loyalty: 멤버십 회원 적립 포인트
how: 어떻게 어떡해 방법 어때
use how: 사용법 이용법 쓰는법 쓰는방법 사용방법
use: 사용 이용 쓰 써 쓸 쓰는 쓰고 쓰면 돌리 돌려 써도
run: 돌아가 돌아 돌고 작동
busy: 사용중 쓰는중 돌아가는중 이용중
free: 비어 비었 빈 비어있 남는 남아있는 놀고
status: 상태
done: 끝나 끝났 끝날 끝 다됐 완료 다돼
left: 남았 남은 남아 남
when: 언제 몇시
until: 까지
long: 오래
take: 걸려 걸리 걸립 걸릴
time: 시간
minute: 분
many: 몇 몇개
which: 어떤 어느 몇번 무슨
what: 뭐 무엇 뭔 뭘 뭐예
where: 어디 어딨 어디서 어디에
who: 누가 누구
now: 지금 현재 당장
open: 영업 열어 열었 열려 열리 열 여나 여는 엽니
open hour: 영업시간
close: 닫 닫아 닫나 닫혀 마감 폐점
allday: 24 이십사 연중무휴 하루종일 밤새 밤새도록 밤에 새벽 야간 항상
today: 오늘
tomorrow: 내일
monday: 월요일
tuesday: 화요일
wednesday: 수요일
thursday: 목요일
friday: 금요일
saturday: 토요일
sunday: 일요일
weekend: 주말
weekday: 평일 주중
staff: 직원 관리자 사장 사장님 주인 알바 점원 매니저 담당자 관리인 직원분
staff: 관리 관리하시는분 관리하는분
person: 사람 누군가
call: 불러 부르 불러줘 호출 와주
phone: 전화 전화번호 번호
contact: 연락 연락처 통화
help: 도와 도움 도와줘
talk: 얘기 이야기 말하 상담
want: 싶 원해
address: 주소 위치 오시는길 찾아가
here: 여기 이곳 이가게 가게 매장 빨래방
lostandfound: 분실물 보관함
lost: 분실 잃어버 잃어버렸 잃어 없어졌 없어지 사라졌
left: 두고 놓고 두고갔 놓고갔 나두고
forget: 깜빡
find: 찾 찾아
clothes: 옷 의류
bag: 가방
sock: 양말
stuff: 물건 짐
rule: 규칙 규정 이용수칙 수칙
forbid: 금지 금지사항
not: 안 못 않 아니
ok: 되 돼 됐 될 된 됩 되나 괜찮 돼요 되나요 됐어요
can: 수있 가능 할수있
none: 없 없어 없나
have: 있 있어 있나 있는 있어요 있나요 계세
broken: 고장 망가 부서 고장나 고장났
stop: 멈췄 멈춰 멈추 멈춤 섰어 서버렸
error: 에러 오류
leak: 새요 새고 새는 샌다 새어 누수 넘쳐
water: 물
floor: 바닥
door: 문
stuck: 갇혔 갇혀 끼었 끼어 안나와 꺼낼수없
noise: 소리 소음
strange: 이상한 이상해 이상하
hot: 뜨겁 뜨거 따뜻 열이
drain: 빠지 빠져 배수
ate: 먹었 먹어 먹 삼켰
put: 넣 넣었 넣어 넣고 넣는 들어가 투입
refund: 환불 돌려주 돌려받 돌려줘
twice: 두번 두번이나 중복
charge: 빠져나갔 청구
decline: 거절 승인 안됨
recognise: 인식
reader: 리더기 단말기
detergent: 세제 섬유유연제 유연제 시트 세재
bleach: 표백제 락스
size: 사이즈 크기
sell: 팔 팔아 파나 판매
vend: 자판기 자동판매기
buy: 사요 살수 사야 구매 구입
include: 포함
bring: 가져와 가져오 가지고와 챙겨
need: 필요
setting: 설정 코스 모드
heat: 온도 온수 찬물 뜨거운물
lint: 먼지 필터 보풀
add: 추가 연장
more: 더
full: 가득 꽉
much: 많이 얼마만큼
dye: 염색 염색약
rug: 러그 카펫 매트
이불: 이불 담요 침구 차렵이불 솜이불 극세사이불 패딩이불 침낭
pet: 강아지 개 고양이 반려동물 애완동물 애완견 반려견
laundry fold: 빨래개는 빨래개기 빨래개켜 옷개는 빨래접는
table: 테이블 탁자
bed: 방석 쿠션
allow: 허용 데리고
do: 하 해 했 할 합 하나 하는 해야 하세요 해주 해요 했어요
give: 주 줘 주세요 드려 줘요
see: 봤 보 봐 봤어요
go: 갔 나갔 와 오 올 갔어요
give: 알려 알려주 알려줘 가르쳐
staff: 일하시는분 일하는분 일하시는 근무 근무하
person: 할머니 할아버지 어르신 아주머니 아저씨
smell burn: 탄내 탄냄새 타는냄새
noise: 쿵쾅 덜컹 덜덜 흔들 흔들려
park: 주차 자동차 차량 차를 차는 세워 세울
park where: 차어디
atm: 현금인출기 인출기 에이티엠 atm
withdraw: 뽑 뽑아 뽑을 뽑는 인출
midnight: 자정
evening: 저녁
morning: 아침 오전
afternoon: 오후 낮
last: 마지막
late: 늦게 늦은 늦어도
"""

# Pieces that carry no meaning for telling intents apart: particles, endings, fillers.
_FUNCTION = word_set(
    """
    은 는 이 가 을 를 에 에서 에는 에게 의 도 만 로 으로 랑 이랑 하고 한테 께 부터 요 이나
    어요 아요 여요 나요 니까 습니까 습니다 니다 세요 시나요 시죠 죠 지요 까요 을까요 ㄹ까요
    는데 은데 인데 인데요 고 서 어서 아서 면 으면 거든요 네요 군요 려면 으려면 예요 에요 이에요
    인가요
    이죠 입니다 입니까 는지 은지 건가요 건지 거예요 거 것 게 건 요즘 좀 저 제 저희
    그 그거 이거 저거 혹시 그냥 그럼 그러면 아 어 음 네 예 저기 혹시요 지 잖아요 데 야 대
    줄 때 중 동안 정도 쯤 다 또 진짜 너무 제발 빨리 하나요 있죠
    """
)
_DAYS = word_set("monday tuesday wednesday thursday friday saturday sunday")
# Second-level synonyms, for features only (words keep the first level for the engine).
_FEATURE_SYNONYMS = {
    **dict.fromkeys(_DAYS | {"tomorrow", "weekend", "weekday"}, "day"),
    "today": "now",  # "오늘" is said about anything ("오늘 날씨"), not only opening days
    "washer": "wash",
    "dryer": "dry",
    "busy": "busy",
}
_KIND_HINTS = {"wash": "washer", "dry": "dryer"}
# Concepts that are grammar rather than meaning: kept in words, left out of features.
_WEAK = frozenset({"do", "give", "go", "see"})
# After a machine word, an ambiguous number word ("세탁기 사") counts only before a word
# starting like one of these (a status, a problem, a particle), not before "사용법" or "열어요".
_AFTER_NUMBER = tuple(
    sorted(
        word_set(
            "비어 비었 빈 사용중 써도 쓸 돌아 작동 고장 얼마 언제 끝 남았 다 상태 은 는 이 가 도 "
            "요 에요 예요 돼 되 있 안 번 멈 문 물 돈"
        )
    )
)


def _lexicon(extra: Iterable[str]) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for line in _LEXICON.strip().splitlines():
        concepts, _, surfaces = line.partition(":")
        for surface in surfaces.split():
            table[surface] = tuple(concepts.split())
    for word in _FUNCTION:
        table.setdefault(word, ())
    for word in extra:  # words of the shop's own questions, size names: themselves
        table.setdefault(word, (word,))
    return table


def split_words(text: str) -> list[str]:
    """Lowercase tokens with machine words, counters and digits split off."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _NOT_WORD.sub(" ", text)
    text = _SPLIT_DIGITS.sub(" ", text)
    text = _SPLIT_MACHINE.sub(r" \1 ", text)
    text = _SPLIT_COUNTER.sub(r" \1 \2 ", text)
    return text.split()


def _value(word: str) -> tuple[int, bool] | None:
    """(number, is native) for a number word or digits."""
    if word.isdigit():
        return int(word), False
    sino = sino_number(word)
    if sino is not None:
        return sino, False
    native = native_number(word)
    return (native, True) if native is not None else None


# Units after a number that make it an amount ("25센트", "30분", "2시간"), never a machine.
_AMOUNT_UNITS = ("센트", "달러", "불", "분", "시간", "파운드", "퍼센트")


def _machine_number(words: list[str], i: int) -> tuple[int, int] | None:
    """If words[i:] starts a machine number here: (number, how many words it spans)."""
    value = _value(words[i])
    if value is None:
        return None
    number, native = value
    span = 1
    # "십 이" / "열 두": a recogniser may space a compound number.
    if i + 1 < len(words):
        joined = _value(words[i] + words[i + 1])
        if joined is not None and joined[1] == native and not words[i].isdigit():
            number, span = joined[0], 2
    before = words[i - 1] if i > 0 else ""
    after = words[i + span] if i + span < len(words) else ""
    machine_before = before in MACHINE_WORDS
    machine_after = after in MACHINE_WORDS or (
        after in _COUNTERS and i + span + 1 < len(words) and words[i + span + 1] in MACHINE_WORDS
    )
    word = words[i] if span == 1 else words[i] + words[i + 1]
    if after.startswith(_AMOUNT_UNITS):
        return None  # "건조기 25센트", "세탁기 30분": an amount, not a machine
    if after == "번째":
        return number, span
    if after == "번":
        if native or word == "이":  # "세 번" is three times, "이번" this time
            return (number, span) if machine_before or machine_after else None
        return number, span
    if native and after in ("다", "중", "모두", "전부"):
        return None  # "세탁기 둘 다", "둘 중": both of them, not machine 2
    if machine_before:
        if word not in _AMBIGUOUS:
            return number, span
        return (number, span) if after == "" or after.startswith(_AFTER_NUMBER) else None
    if machine_after and not native and word != "이":
        return number, span
    return None


class KoreanNormalizer:
    """Runs the Korean pipeline; built once per knowledge file (the vocabulary comes from it)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self.lexicon = _lexicon(())
        self.longest = max(len(surface) for surface in self.lexicon)
        # The shop's own words ("와이파이", "화장실") become lexicon words, or the cut would
        # break them into pieces that happen to be particles ("와", "이").
        learned = {stem for text in vocabulary for stem in self._new_words(text)}
        self.lexicon = _lexicon(learned)
        self.longest = max(len(surface) for surface in self.lexicon)
        # Typos are fixed on jamo: "셰탁기" is one letter from "세탁기".
        self.by_jamo = {_jamo(s): s for s in self.lexicon if len(s) >= 2 and not s.isascii()}
        self.speller = Speller(self.by_jamo)

    def __call__(self, text: str) -> Normalized:
        words = split_words(text)
        out: list[str] = []
        machine: MachineRef | None = None
        i = 0
        while i < len(words):
            found = _machine_number(words, i)
            if found is None:
                out.append(words[i])
                i += 1
                continue
            number, span = found
            j = i + span
            kind_word = words[i - 1] if i > 0 and words[i - 1] in MACHINE_WORDS else None
            if j < len(words) and words[j] in _COUNTERS:
                j += 1  # the counter belongs to the number
            if kind_word is None and j < len(words) and words[j] in MACHINE_WORDS:
                kind_word = words[j]
            ref = MachineRef(MACHINE_WORDS[kind_word] if kind_word else None, number)
            if machine is None or machine.number is None:
                machine = ref
            out.append(NUM)
            i = j
        if machine is None:
            kinds_said = [MACHINE_WORDS[w] for w in out if w in MACHINE_WORDS]
            if kinds_said:
                machine = MachineRef(kinds_said[0], None)
        return self._normalized(self.concepts(out), machine)

    def concepts(self, words: list[str]) -> list[str]:
        """The cut of the unspaced text between machine numbers -> concept tokens."""
        result: list[str] = []
        for is_num, group in itertools.groupby(words, key=lambda w: w == NUM):
            if is_num:
                result.extend(NUM for _ in group)
            else:
                for surface, known in self.cut("".join(group)):
                    concepts = self.lexicon[surface] if known else self._unknown(surface)
                    result.extend(concepts)
        return result

    def cut(self, text: str) -> list[tuple[str, bool]]:
        """Fewest pieces covering `text`: (surface, known); unknown syllables run together."""
        # best[i]: (cost, start of the last piece, known) for text[:i]; an unknown syllable
        # costs more than a known piece, so known words win where they fit.
        best: list[tuple[float, int, bool]] = [(0.0, 0, True)] + [(1e9, 0, False)] * len(text)
        for i in range(len(text)):
            cost = best[i][0]
            if cost + _UNKNOWN_COST < best[i + 1][0]:
                best[i + 1] = (cost + _UNKNOWN_COST, i, False)
            for end in range(i + 1, min(len(text), i + self.longest) + 1):
                if text[i:end] in self.lexicon and cost + 1 < best[end][0]:
                    best[end] = (cost + 1, i, True)
        pieces: list[tuple[str, bool]] = []
        end = len(text)
        while end > 0:
            _, start, known = best[end]
            if not known and pieces and not pieces[-1][1]:
                pieces[-1] = (text[start:end] + pieces[-1][0], False)  # join unknown runs
            else:
                pieces.append((text[start:end], known))
            end = start
        return pieces[::-1]

    def _unknown(self, run: str) -> tuple[str, ...]:
        if len(run) == 1 and not run.isascii():
            return ()  # a lone syllable left over is an ending or particle we don't list
        fixed = self.by_jamo.get(self.speller.correct(_jamo(run)))
        if fixed is not None:
            return self.lexicon[fixed]
        return (run,)

    def surfaces(self, text: str) -> list[str]:
        """`text` in lexicon pieces, e.g. for a recogniser's phrase list: "비었 어요"."""
        pieces = [surface for word in split_words(text) for surface, _ in self.cut(word)]
        return [said for piece in pieces for said in _RECOGNISER_PIECES.get(piece, piece).split()]

    def _new_words(self, text: str) -> set[str]:
        """Stems of a known question that the lexicon cannot cut without unknown syllables."""
        found: set[str] = set()
        for word in split_words(text):
            stem = word
            # Drop particles and endings at the end: "비밀번호가" -> "비밀번호".
            while len(stem) > 1:
                cuts = [c for c in range(1, len(stem)) if _ending(stem[:c], stem[c:], self.lexicon)]
                if not cuts:
                    break
                stem = stem[: cuts[0]]
            if len(stem) >= 2 and not all(known for _, known in self.cut(stem)):
                found.add(stem)
        return found

    def _normalized(self, concepts: list[str], machine: MachineRef | None) -> Normalized:
        content = [_FEATURE_SYNONYMS.get(c, c) for c in concepts if c != NUM and c not in _WEAK]
        kinds = frozenset(_KIND_HINTS[c] for c in content if c in _KIND_HINTS)
        pairs = [f"{a}_{b}" for a, b in itertools.pairwise(content) if a != b]
        return Normalized(tuple(concepts), tuple(content + pairs), machine, kinds)


_UNKNOWN_COST = 1.6


# Particles whose form follows the sound before them: "이" only after a final consonant
# ("화장실이"), "가" only after a vowel ("비밀번호가"). So "와이파이" ends in no particle.
_AFTER_CONSONANT = word_set("이 은 을 과 으로 이에요 이랑")
_AFTER_VOWEL = word_set("가 는 를 와 로 예요 랑")
_STRIPPED_TOO = word_set("까지")  # a particle, but one that carries meaning ("until")


def _ending(stem: str, ending: str, lexicon: dict[str, tuple[str, ...]]) -> bool:
    """Whether `ending` can be a particle or ending glued to `stem`."""
    if lexicon.get(ending) != () and ending not in _STRIPPED_TOO:
        return False
    last = stem[-1]
    final = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
    if ending in _AFTER_CONSONANT:
        return final
    if ending in _AFTER_VOWEL:
        return not final
    return True


# Lexicon words the Vosk Korean model only knows in pieces (it writes "남 는", not "남는").
_RECOGNISER_PIECES = {
    "남는": "남 는",
    "새요": "새 요",
    "떠요": "떠 요",
    "저기요": "저기 요",
    "여기요": "여기 요",
    "도와": "도와줘",
}


def _jamo(text: str) -> str:
    return unicodedata.normalize("NFD", text)
