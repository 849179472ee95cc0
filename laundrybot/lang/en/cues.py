"""English cues about a whole utterance (see dialog/cues.py): problems, requests the shop does
not serve, follow-ups, yes/no and "when" questions, where a second request starts."""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from laundrybot.dialog.cues import Cues, any_of
from laundrybot.lang.en.normalize import canonical, heard
from laundrybot.lang.en.numbers import MACHINE_NUMBER_WORDS, number_value

# Smoke from a machine, not a customer's smoking ("can I smoke inside", "is smoking allowed").
_SMOKE = (
    r"(?<!can i )(?<!can we )(?<!may i )(?<!to )(?<!i )(?<!we )(?<!no )smok(e|es|ing)\b"
    r"(?! (allowed|area|inside|indoors|here|outside|section|permitted|a |in here))"
)
# Someone hurt by a door, a table, a drum: "my kid pinched his fingers", "she cut her hand".
_INJURY = (
    r"\b(pinched|cut|burn(ed|t)|scratched|banged|slammed|smashed|crushed|caught|jammed|hit)"
    r" (his|her|my|their|your|a|the) (finger|thumb|hand|arm|head|foot|toe|leg|knee|face)s?\b"
)
_PROBLEM = any_of(
    r"\b(took|taken|ate|eaten|eats|eating|stole|swallowed|kept) (my|all my|the)? ?"
    r"(money|quarters?|coins?|card|cash|change|\$?\d+)",
    r"\b(keeps?|taking|won'?t give( back)?) (my|all my) (money|quarters?|coins?|card|cash)",
    r"\b(charged|double charged|overcharged|no refund|refund|money back|lost my money)",
    r"\b(paid|put (my |the |some )?(money|quarters|coins|cash))\b"
    r".*\b(not|never|nothing|didn|doesn|won)\b",
    r"\b(broken|broke|busted|not working|does not work|doesn't work|stopped"
    r"|won'?t (start|drain|spin|open|unlock|turn on|heat|work|stop|go|run)|keeps? beeping"
    r"|beeps|will not (start|drain|spin|open|unlock|heat|work|stop))",
    r"\b(leak(s|ing|ed)?|flood(ed|ing)?|water (all )?(over|on) the floor|overflow"
    r"|all over the floor"
    r"|water (is )?everywhere|puddle)",
    r"\b(took|ate|swallowed|stole|kept|eaten|grabbed)\b.{0,20}"
    r"\b(money|quarters?|coins?|cash|bucks|dollars?|change)\b",
    r"\b(caught|pinched|crushed) in\b",
    # Put in few words ("machine no work, money gone").
    r"\bno (work|works|working|start|starts|spin|spins|run|runs)\b"
    r"|\b(money|quarters?|coins?|cash|dollars?)( is| are| was| were| all)? (gone|lost|missing)\b",
    r"\b(stuck|jammed|trapped|locked|can'?t (open|get)|can not (open|get))",
    r"\b(hurt|injured|bleeding|fire|smell(s)? (like )?(burn|gas)|burning|sparks?|shock)",
    _SMOKE,
    _INJURY,
    r"\b(burning|sparks?|pouring|dripping|gushing|dead|black screen|blank"
    r"|shut (off|down)|turned off|cut out|just sitting|sitting there|only gave me|no credit)\b",
    r"\b(didn'?t|did not|never|doesn'?t|does not|don'?t|do not|won'?t|will not|isn'?t|is not"
    r"|not) (start|run|ran|work|spin|drain|heat|dry|turn on|count|register|close|lock|open"
    r"|change|go down|show (up|anything)|respond)",
    # A part come off: "the door handle snapped off", "the knob fell off".
    r"\b(snapped|broke|broken|came|come|fell|fallen|ripped|torn) off\b|\bcracked\b",
    # The drum or the water that doesn't come: "isn't turning", "isnt filling up".
    r"\b(isn'?t|is not|not|won'?t|will not|doesn'?t|does not|stopped) (turning|tumbling"
    r"|rotating|filling|fill|taking water|getting water)\b",
    r"\b(stop(ped|s)?|quit|died) (in the middle|halfway|mid|early|working|running)",
    # A cycle overrunning: "it's been going 20 minutes longer than it said".
    r"\b(running|ran|going|been on|taking|took)\b.{0,25}\b(longer|more) than (it said|it"
    r" should|it's supposed to|expected|the (display|timer|screen) said|normal|usual)",
    r"(\bnot|\bnever|n'?t) (get |got |been |be )?(counted|registered|credited)\b",
    r"\b(does|did|is doing|shows|showed) nothing\b",
    # A machine making a racket: "it's banging really loud", "the drum is grinding".
    r"\b(bang(s|ing)|clank(s|ing)|clunk(s|ing)|grind(s|ing)|squeal(s|ing)|screech(es|ing)"
    r"|rattl(es|ing)|thump(s|ing)|(loud|weird|strange|funny|awful) (sound|racket|rattle))\b",
    r"\b(ice|stone|freezing) cold\b|\b(blows?|blowing|still|stays?|comes? out) cold\b",
    r"\b(error|over ?heat(s|ed|ing)?|not heating|no heat|not hot|not get(ting)? hot"
    r"|doesn'?t get hot|cold air|damp"
    r"|not drying|still (soaking |sopping |dripping )?wet|soaking wet|strange noise|noise"
    r"|\b(are|r|is|still|come out|came out) (all |completely |totally )?(soaked|sopping"
    r"|drenched)"
    r"|out of order|not spinning|not draining"
    r"|won'?t drain)",
)
_PERSON = any_of(
    # Not the number to call: "what's the number to call the owner" asks for it.
    r"\b(?<!number to )(?<!number i can )(?<!number i )"
    r"call (the )?(staff|manager|manger|attendant|owner|someone|somebody|a person|for help)",
    r"\b(talk|speak) (to|with) (a |the |an )?(real |live |actual |human )?"
    r"(person|human|someone|somebody|staff|manager|attendant|owner|employee|worker)",
    r"\b(let|tell) (the )?(owner|staff|manager|attendant|someone) know\b",
    r"\b(anyone|someone|somebody|a person|staff)\b.{0,30}\bi (can|could) (talk|speak)"
    r" (to|with)\b",
    # Someone hurt needs a person, whatever machine is near.
    r"\b(fell|fallen|fainted|unconscious|collapsed|passed out|not breathing"
    r"|(isn'?t|not) (getting|get) up|can'?t (get up|breathe))\b",
    r"\b(get|send|need) (me )?(a |an |the )?"
    r"(person|human|someone|somebody|staff|attendant|manager)",
    r"\bhelp from (a |an |the )?(person|human|staff|someone|somebody|attendant)",
    r"^((i )?(need|want|could use) (some )?help( here| now| please)?|help( me)?( please)?"
    r"|please help|staff please|call staff)[.!? ]*$",
)
_VAGUE = any_of(
    r"\b(something|somethings|something's) (is )?(wrong|off|up|weird|strange)",
    r"\b(a |some )?(problem|issue|trouble)s? with\b",
    r"\b(acting|behaving) (up|weird|strange|funny)",
    r"\b(isn'?t|is not|not) (right|ok|okay)\b",
    r"\bweird\b|\bstrange\b|\bfunny\b|\bmessed up\b",
    r"\b(isn'?t|is not|not|won'?t|will not) (doing|do) anything\b|\bnothing'?s? (is )?happening\b",
    r"^(there'?s |there is |i have |i've got )?(a )?problem[.!? ]*$",
)
# Urgent, or a danger to someone: filed at once, without asking which machine first.
_URGENT = any_of(
    r"\b(urgent|emergency|asap|right now|immediately|hurry|quick(ly)?)\b",
    r"\b(hurt|injur\w*|bleed\w*|blood|fell|fallen|fainted|unconscious|burn(ed|t|ing)"
    r"|fire|sparks?|shock(ed)?|electrocut\w*|gas)\b",
    _SMOKE,
    _INJURY,
    # Not a numbered machine: filed without asking which machine.
    r"\b(change machine|bill changer|kiosk|vending machine)\b",
    r"\bflood\w*|\bwater (is )?(all over|everywhere|on the floor)|\bwater everywhere"
    r"|\bwater('?s| is)? (pouring|gushing|spilling|spraying) (out|all over|everywhere)\b"
    r"|\ball over the floor\b|\bpuddle"
    r"|\b(kid|child|baby|son|daughter|dog|cat)\b.*\b(stuck|trapped|caught|inside|locked)\b",
)
# A problem that has not happened, or how one is handled: "what if", "in case", "say a washer
# leaks", "how do I report...", "who do I call", "do you give refunds".
_HYPOTHETICAL = re.compile(
    r"\bif\b|\bin case\b|\bsuppose\b|^say (a|the|my)\b|\bwhat (happens|do i do|should i do)\b"
    r"|\bwho (do i|should i|can i|pays|handles)\b|\bhow (do|does|would|can) (i|you|we|refunds?)"
    r" (report|get|work|handle|claim)\b|\bhow do refunds\b|\bdo you (give|do|offer|pay)\b"
    # Refunds asked about, not a refund claimed: "refunds, how do they work", "your refund
    # policy", "would a refund come back as cash".
    r"|\brefunds?\b.*\b(how|when|policy|work|cash|card|come|take)\b"
    r"|\b(what|how|when|is|are|would|will|does|do)\b.*\brefunds?\b(?!.*\b(took|ate|kept)\b)"
    # Whether a machine with a problem may be used, with no number: "is it safe to use a washer
    # that's leaking", "can I still use a dryer that smells": what to do, never a report.
    r"|^(is it|it is|would it be) (safe|ok|okay|fine|alright|dangerous)\b.*\b(an?|any)"
    r" (washer|dryer|machine)\b"
    r"|^(can|could|should|may) (i|you|we) (still )?use (an?|any) (washer|dryer|machine)"
    r" (that|which|if|when|with)\b"
)
_OUT_OF_SCOPE = any_of(
    r"\b(pizza|burger|food|coffee|drink|beer|snack|lunch|dinner|breakfast|restaurant|takeout)\b",
    r"\b(uber|lyft|taxi|cab|ride home|a ride|bus|train|flight|airport|hotel|book (me )?a table)\b",
    r"\bdirections to\b|\bhow (do|can|would) (i|we) get to\b.*\bfrom here\b",
    # Not what is worn in it: "rain jacket", "snow pants" are laundry.
    r"\b(weather|temperature outside|forecast)\b"
    r"|\b(rain|snow)\b(?! ?(boots?|jackets?|coats?|gear|pants|suits?|bibs?|gloves|hats?))",
    r"\bwhether (like|today|tomorrow|outside)\b",  # the homophone, typed or heard
    r"\b(joke|song|music|story|game|score|news|homework|meaning of life|poem)\b",
    r"\b(cigarettes?|alcohol|lottery|stamps)\b",
    r"\b(police|doctor|pharmacy|hospital|post office|gas station)\b",
    r"\bcall (my|me a|an?) (?!person|human)\w+",
    r"\b(dry[ -]clean(ing|ers?)?|ironing|tailor|alterations?|shoe repair)\b",
    # Bringing laundry to the customer: the shop is self-service ("do you deliver").
    r"\b(deliver|delivers|delivered|delivery|deliveries|delivering)\b",
    r"\b(wash|clean|detail|vacuum) (my|the|our) (car|truck|van)\b|\bcar ?wash\b",
    # Passing a message on: "can you text that to my friend".
    r"\b(text|send|email|e-mail|forward|message) (it|that|this|them|those)( info)? to (my|a|an)\b",
)
_ACCEPT = re.compile(
    r"^(yes|yeah|yep|yup|sure|ok|okay|please|go on|go ahead|tell me|yes please|sure thing|"
    r"the steps|steps|more|what are they|and then|what next)( please| thanks| tell me| go on)?"
    r"[.!? ]*$"
)
_FOLLOW_UP = re.compile(
    r"^(and|also|so|ok(ay)?|what about|how about|and what about|what of"
    r"|then|same|is it the same|and the same|even|not even|what else)\b"  # "even late at night?"
    r"|\b(too|as well)[.!? ]*$"  # "can I use it on the dryers too"
)
_YES_NO = re.compile(
    r"^((and|so|ok(ay)?|hey|um|also|oh|well),? )*(is|are|am|do|does|did|can|could|will"
    r"|would|should|have|has|may|r|u|you(?!'?re\b| are\b| were\b))\b"
    # Asked by its tail ("the big washer, three loads ok?"), not a reply ("that's ok").
    r"|^(?!or\b)(?!(no |yes |oh )?(that'?s|thats|it'?s|its|i'?m|im|that is|it is|all|ok|okay)\b)"
    r"\w.*\s(ok|okay|alright|all right|fine)[?]*$"
)
_WHEN = re.compile(r"\b(when|what time|how late|how early|how soon|till when|until when)\b")
_ASKS_BUSY = re.compile(r"\b(used|using|busy|in use|running|taken|occupied|going)\b")
_ASKS_WORKING = re.compile(r"\b(working|work|broken|out of order)\b")
_ASKS_STAFF = re.compile(
    r"\b(staff|attendant|employees?|someone|somebody|anyone|anybody|manager|owner"
    r"|workers?|person|people)\b"
)

# Kept whole when cutting: "wash and fold", "lost and found", "washer and dryer", "7 and 8".
_KEEP = re.compile(
    rf"\b(wash|washing|lost|washer|machines?|quarters?|bills?|\d+|{MACHINE_NUMBER_WORDS}) "
    rf"(and|n|&) (fold|found|dryers?|folding|\d+|{MACHINE_NUMBER_WORDS})\b"
)
_DOTTED_HOUR = re.compile(r"\b([apAP])\.\s?[mM]\b\.?")
_CUT = re.compile(
    r"\s*(?:[?!;.]+|,)\s*(?:and\s+|also\s+|plus\s+)?|\s+(?:and|also|plus|&|n|\+)\s+"
    r"|\s+or\s+(?=(?:do|does|can|could|should|is|are|will|would|must)\s)"  # "... or do I need"
    r"|\s+or\s+(?=(?:just|only)\s)"  # "do you do dry cleaning or just wash and fold"
    # "and" as a recogniser writes it before a question ("is 3 free an what about 4").
    r"|\s+an\s+(?=(?:what|how|when|where|which|is|are|can|do|does)\s)"
)
# A run-on as a recogniser writes it: "how much does a wash cost how long is it"; not the
# question a condition opens ("if I feed it two bucks how long will it go").
_RUN_ON = re.compile(
    r"(?<=\w)\s+(?=how (?:much|many|long|late|early|big)\s+(?:is|are|does|do|can|will|for|time"
    r"|minutes|quarters|loads)\b)"
)
_CONDITION_FIRST = re.compile(r"^\W*(if|in case|when|once|suppose)\b", re.IGNORECASE)


def split(text: str) -> list[str]:
    """The pieces a second request may start at; the engine keeps a cut only when both sides
    stand as requests of their own."""
    text = _DOTTED_HOUR.sub(r"\1m", text)  # "3 a.m." is no sentence's end
    kept = _KEEP.sub(lambda m: m.group(0).replace(" ", "\x00"), text)
    pieces = [p.replace("\x00", " ").strip() for p in _CUT.split(kept)]
    pieces = [
        each for p in pieces for each in ([p] if _CONDITION_FIRST.match(p) else _RUN_ON.split(p))
    ]
    # "is 16 down? if so, which one can I use": "if so" points back at the answer, no
    # condition of its own; the request after it stands alone.
    pieces = [_IF_SO.sub("", p) for p in pieces]
    return [p for p in pieces if p]


_IF_SO = re.compile(r"^(if (so|yes)\b[,.]?\s*)+", re.IGNORECASE)
_UNITS_AFTER = frozenset(
    [
        "minute",
        "minutes",
        "min",
        "mins",
        "hour",
        "hours",
        "hrs",
        "dollar",
        "dollars",
        "bucks",
        "cents",
        "cent",
        "loads",
        "baskets",
        "basket",
        "hampers",
        "bags",
        "load",
        "pounds",
        "pound",
        "lbs",
        "days",
        "day",
        "am",
        "pm",
        "times",
        "time",
        "quarters",
        "quarter",
        "percent",
        "o",
        "clock",
        "oclock",
        # "three things: ...", "2 questions": a count of something else.
        "things",
        "thing",
        "questions",
        "question",
        "parts",
        "kids",
        "people",
        "items",
    ]
)
_TIME_OF_DAY = ("at night", "in the morning", "in the evening", "in the afternoon", "tonight")
_BEFORE_NOT_MACHINE = frozenset(["$", "for", "pay", "paid", "charged", "cost", "costs"])
# "I work till 7", "done before 12", "at 8 on saturdays": an hour, unless a machine's end
# follows ("how long till 7 is done").
_UNTIL = frozenset(["till", "til", "until", "before", "after", "by", "around", "at"])
_ENDS = frozenset(["is", "finishes", "done", "will", "gets", "ends", "stops", "has", "be"])


_LOADS = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[\s-]+"
    r"(?:\w+\s+)?(loads?|baskets?|hampers?)\b"
)


def load_count(text: str) -> int | None:
    """ "six loads", "3 baskets of laundry", "up to four loads", "the four-load one": how many
    loads."""
    found = _LOADS.search(text.lower())
    if found is None:
        return None
    said = found.group(1)
    return int(said) if said.isdigit() else number_value(said)


# A number said of a thing, not of a machine doing something ("how long til 8 is done").
_COUNTED = re.compile(
    r"\b(?P<n>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|an?)\s+(?:of\s+)?"
    r"(?P<w>them|those|the two|(?!(?:is|are|was|were|be|will|would|can|could|should|do|does"
    r"|did|has|have|had|gets|goes|says|finishes|ends|starts)\b)[a-z]+)\b"
)

# What joins one more counted to the ones before ("two giants plus a regular", "three
# regular washes and a giant").
_COUNTED_ON = re.compile(
    r"(?:\s+(?:wash|washes|washers?|loads?|machines?))?\s*,?\s*(?:plus|and|with|or|\+)\s+"
)


def counted(text: str) -> tuple[tuple[int, str, bool], ...]:
    """ "two regulars plus one large", "two of them", "so two machines": how many of what
    word, and whether "or" puts it as the other choice ("two regulars or one large")."""
    out: list[tuple[int, str, bool]] = []
    end = 0
    low = text.lower()
    for found in _COUNTED.finditer(low):
        said = found.group("n")
        if said in ("a", "an"):
            # "two giants plus a regular": one more, only right after a counted one.
            if not out or not _COUNTED_ON.fullmatch(low[end : found.start()]):
                continue
            said = "one"
        count = int(said) if said.isdigit() else number_value(said)
        if count is None:
            continue
        alternative = bool(out) and re.search(r"\bor\b", low[end : found.start()]) is not None
        out.append((count, found.group("w"), alternative))
        end = found.end()
    return tuple(out)


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen"
    # "forty minutes", "forty-five minutes": tens, and tens with a unit.
    r"|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four"
    r"|five|six|seven|eight|nine))?"
)
_AMOUNT = rf"(\d+|a|an|{_NUMBER_WORDS})"
_MONEY_GIVEN = re.compile(
    r"\$\s?(\d+(?:\.\d\d)?)(?!\s*(?:minutes?|mins?))"
    rf"|\b{_AMOUNT}\s+(?:(?:full|whole|single|more) )?(dollars?|bucks?|quarters?|cents?)\b"
    # "a dollar fifty", "two dollars and twenty five", "1 dollar 50": the cents after dollars
    # (not "a dollar for", nor minutes: "a dollar twenty minutes" is no sum).
    rf"(?:\s+(?:and\s+)?{_AMOUNT}(?:\s+cents?)?(?!\s*(?:minutes?|mins?|hours?"
    r"|dollars?|bucks?|quarters?|cents?|loads?|pounds?|lbs?)\b)(?=\s|$|[,.?!]))?"
)
_PER_UNIT = {
    "dollar": Decimal(1),
    "buck": Decimal(1),
    "quarter": Decimal("0.25"),
    "cent": Decimal("0.01"),
}
_MINUTES_WANTED = re.compile(
    rf"\b{_AMOUNT}\s+(minutes?|mins?|hours?)\b|\b(half an hour|an hour and a half)\b"
)


def _amount(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return 1 if word in ("a", "an") else number_value(word)


def money_given(text: str) -> Decimal | None:
    """ "a dollar", "$2", "four quarters", "50 cents": the money offered, in dollars."""
    found = _MONEY_GIVEN.search(text.lower())
    if found is None:
        return None
    if found.group(1):
        return Decimal(found.group(1))
    count = _amount(found.group(2))
    unit = found.group(3).rstrip("s")
    if count is None:
        return None
    cents = _amount(found.group(4)) if found.group(4) else None
    if cents and unit in ("dollar", "buck") and 10 <= cents < 100:
        return count + Decimal(cents) / 100
    return count * _PER_UNIT[unit]


def minutes_wanted(text: str) -> int | None:
    """ "for 45 minutes", "an hour", "half an hour": a drying time wanted, in minutes."""
    found = _MINUTES_WANTED.search(text.lower())
    if found is None:
        return None
    if found.group(3):
        return 30 if found.group(3) == "half an hour" else 90
    count = _amount(found.group(1))
    if count is None:
        return None
    return count * 60 if found.group(2).startswith("hour") else count


_WEIGHT = re.compile(rf"\b(\d+(?:\.\d+)?|{_NUMBER_WORDS})\s*(?:pounds?|lbs?)\b")
# "1 dollar 50 a pound", "$1.50 per pound", "75 cents a lb": a price for each pound.
_PER_WEIGHT = re.compile(
    r"(?:\$\s?(\d+(?:\.\d\d)?)|\b(\d+) dollars?(?: (?:and )?(\d\d)(?: cents)?)?|\b(\d+) cents)"
    r"\s+(?:a|per|each|for each|for every|every)\s+(?:pound|lb)\b"
)


def weight_given(text: str) -> Decimal | None:
    """ "about 40 pounds", "10 lbs", "twenty pounds": a weight said, in pounds."""
    found = _WEIGHT.search(text.lower())
    if found is None:
        return None
    said = found.group(1)
    if said[0].isdigit():
        return Decimal(said)
    value = _amount(said)
    return None if value is None else Decimal(value)


def per_weight(text: str) -> Decimal | None:
    """ "at 1 dollar 50 a pound", "$1.50 per pound": the price of one pound, in dollars."""
    found = _PER_WEIGHT.search(text.lower())
    if found is None:
        return None
    if found.group(1):
        return Decimal(found.group(1))
    if found.group(2):
        return Decimal(found.group(2)) + Decimal(found.group(3) or 0) / 100
    return Decimal(found.group(4)) / 100


_CLOCK = re.compile(
    r"\b(?:at|around|by|about|after|before|like|until|till)\s+(\d{1,2})(?::(\d\d))?"
    r"(?:\s*(am|pm|a\.m\.?|p\.m\.?|o'?clock))?\b(?!\s*(?:minutes?|mins?|hours?|loads?|dollars?))"
    r"|\b(\d{1,2})(?::(\d\d))?\s*(am|pm|a\.m\.?|p\.m\.?)(?!\w)"
)


# An hour in words, as the recogniser writes it, where what follows makes it an hour ("three
# in the morning", "nine pm"); "at one of the machines" stays words.
_SPELLED_HOUR = re.compile(
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b"
    r"(?=\s*(?:am|pm|a\.m|p\.m|o'?clock|in the (?:morning|evening|afternoon)|at night|tonight)\b)"
)


def spelled_hours(text: str) -> str:
    """Hours in words as digits where am, pm or the time of day follows ("three in the
    morning" -> "3 in the morning"): the cues' patterns and hour_asked read digits."""
    return _SPELLED_HOUR.sub(lambda m: str(number_value(m.group(1))), text)


def hour_asked(text: str) -> int | None:
    """ "at 7" (in the evening), "9 in the morning", "2am", "midnight": minutes after midnight.
    An hour said without am or pm is in the afternoon or evening up to 6 ("at 5"), unless the
    morning is said."""
    text = spelled_hours(text.lower())
    if re.search(r"\bmidnight\b", text):
        return 0
    if re.search(r"\bnoon\b", text):
        return 12 * 60
    found = _CLOCK.search(text)
    if found is None:
        return None
    hour = int(found.group(1) or found.group(4))
    minute = int(found.group(2) or found.group(5) or 0)
    half = (found.group(3) or found.group(6) or "").replace(".", "")
    if hour > 24 or minute > 59:
        return None
    morning = re.search(r"\b(morning|early)\b", text)
    evening = re.search(r"\b(evening|night|tonight|afternoon)\b", text)
    if half.startswith("p") or (
        not half.startswith("a") and not morning and (evening or 1 <= hour <= 6)
    ):
        hour = hour % 12 + 12
    elif half.startswith("a") and hour == 12:
        hour = 0
    return hour * 60 + minute


# Words ending in "s" after a number that are no count of things: "when 7 finishes".
_NOT_COUNTED = frozenset(
    [
        "washers",
        "dryers",
        "machines",
        "finishes",
        "runs",
        "works",
        "starts",
        "stops",
        "ends",
        "goes",
        "says",
        "takes",
        "needs",
        "has",
        "does",
        "is",
        "was",
        "opens",
        "gets",
        "stays",
        "smells",
        "leaks",
        "beeps",
        "makes",
        "shows",
        "sounds",
        "smokes",
        "keeps",
        "seems",
    ]
)


def _counted(word: str) -> bool:
    """A plural noun after a number ("2 comforters", "three shirts"): the things counted."""
    return (
        len(word) > 3
        and word.endswith("s")
        and word not in _NOT_COUNTED
        and canonical(word) != word
    )


def bare_number(words: tuple[str, ...]) -> int | None:
    """A number said on its own ("is 6 free", "its 3", "how long left on 7"), not a price,
    time or count ("2 loads", "24 hours", "for 5")."""
    for i, word in enumerate(words):
        if not word.isdigit():
            continue
        after = words[i + 1] if i + 1 < len(words) else ""
        before = words[i - 1] if i else ""
        if after in _UNITS_AFTER or before in _BEFORE_NOT_MACHINE or int(word) > 99:
            continue
        if before in _UNTIL and after not in _ENDS:
            continue
        if before in ("or", "and", "to") and i >= 2 and words[i - 2] in _UNITS_AFTER:
            continue  # "eight dollars or nine", "30 minutes or 40": the same unit's amount
        if before == "the" and i >= 2 and words[i - 2] == "of":
            continue  # "which one of the two": the machines talked about, counted
        if i and (_counted(after) or _counted(words[i + 2] if i + 2 < len(words) else "")):
            continue  # "I got two comforters": a count of things ("16 smells": machine 16)
        if i and after.rstrip("s") in ("washer", "dryer", "machine"):
            continue  # "the two dryer sizes", "all 8 washers": machines counted, not named
        if " ".join(words[i + 1 : i + 4]).startswith(_TIME_OF_DAY):
            continue  # "at 11 at night", "9 in the morning": an hour
        return int(word)
    return None


_ITEMS = (
    (
        # A car left or parked: the owner's parking text (guarded like the others), before
        # the unattended rule ("can I leave my car in your lot overnight").
        re.compile(
            r"\b(park|parking|parked)\b|\b(leave|left|keep) (my|the|our) (car|truck|van)\b"
            r"|\b(car|truck|van)\b.{0,20}\b(stay|be there|sit|lot)\b"
        ),
        "faq:parking",
    ),
    # Which machines are of a size: their numbers and place ("which ones are the giant
    # washers"), not its price.
    (
        re.compile(
            r"^(which|what) (ones|machines|numbers|washers|dryers|ones here)? ?(are|is) (the|your)"
            r" (regular|large|giant|big|biggest|standard|small|stack|normal)\b(?!.*\b(free|open"
            r"|available|cost|price|much)\b)"
        ),
        "machine-info",
    ),
    # How long things left behind are kept: lost and found, not a cycle time.
    (
        re.compile(
            r"\b(forgot|forget|forgotten|left behind|leave behind|lost|missing)\b.{0,40}"
            r"\b(keep|kept|hold|held|store|stored)\b|\b(keep|kept|hold|held|store|stored)\b"
            r".{0,40}\b(forgot|forget|forgotten|left behind|leave behind|lost)\b"
        ),
        "lost-and-found",
    ),
    # A thing lost or found told ("lost my keys somewhere", "found a kid's jacket"): lost
    # and found, not money a machine kept.
    (
        re.compile(
            r"^((so|um|oh|hey|ok|well),? )*(i (have |just |think i |'ve )?|i've |ive )?"
            r"(lost|found|misplaced|can'?t find|cannot find) (my|someone'?s|somebody'?s|a|an"
            r"|some|this|these)\b(?!.{0,20}\b(money|quarters?|coins?|change|cash|card|credit"
            r"|machine|washer|dryer|way)\b)"
        ),
        "lost-and-found",
    ),
    # The wifi, however it is asked ("do I have to pay for the internet").
    (
        re.compile(
            r"\b(wifi|wi-fi|internet|wireless)\b"
            # Getting online is the wifi: "can I get online", "how do I go on line here".
            r"|\b(get|go|be|stay|going|getting) (on ?line|connected)\b"
        ),
        "faq:wifi",
    ),
    (
        # Time bought with a coin: the cycle times ("how much time do I get for a quarter").
        re.compile(
            r"\b(how much time|how long|how many minutes|how many mins)\b.*\b(for|per|with)"
            r" (a|one|each|every|1)? ?(quarter|coin|25 cents)\b"
        ),
        "cycle-times",
    ),
    (
        # Laundry left for the service: wash and fold ("when do I get it back").
        re.compile(r"\b(leave|drop|left|dropped)\b.*\bfor (the|your) (service|staff)\b"),
        "faq:wash-and-fold",
    ),
    (
        # Leaving laundry in a machine, or someone else's left in one: the shop's rule about
        # unattended laundry (guarded: only when the knowledge file has that rule).
        re.compile(
            r"\b(someone|somebody|some one|other people|another person|somebodys|someones"
            r"|somebody's|someone's|their)\b.*\b(clothes|laundry|stuff|things|load|wash)\b"
            r".*\b(in|inside)\b"
            r"|\b(can|could|may|if|ok if|okay if) i (leave|go|step out|run|head|start)\b.*\b(while"
            r"|come back|overnight|later|go get|go grab|unattended|for a bit|errands?|shopping"
            r"|step out|go out|pop out|head out|be gone|be back|grab|lunch|dinner|coffee"
            r"|(a |an |for )?(couple|few|couple of) hours|an hour|all day)\b"
            r"|\bleave (my|the) (wash|laundry|clothes|stuff|load)\b.*\b(go|come back|overnight"
            r"|later|while|hours?|all day)\b"
            r"|\b(stay|wait) (with|by|for) (my|the) (laundry|clothes|wash|load|stuff)\b"
        ),
        "rule:unattended",
    ),
    (
        # Animals in the shop, or their bedding in the machines: the pets rule, whatever
        # else the words are like ("can my dog come in" is not when staff come in); asked of
        # the shop, not "call the police about a dog".
        re.compile(
            r"^(?=.*\b(bring|come|allowed|allow|inside|in here|with me|wash|washing|bed|beds"
            r"|hair|fur|can|may|ok|okay|let)\b)"
            r"(?=.*\b(dogs?|doggy|doggie|puppy|puppies|cats?|kitten|kitty|pets?|animals?)\b)"
            r"(?!.*\b(stuck|trapped|locked|police)\b)"
        ),
        "rule:pets",
    ),
    (
        re.compile(
            r"\b(dye|dyes|dyeing|tie[ -]?dye)\b|\bdying (my |the |some )?\w*"
            r"\b(clothes|shirts?|jeans|fabric|stuff|things|hair|sheets)\b"
        ),
        "rule:dyeing",
    ),
    (
        # Breaking a bill: the change machine ("can I break a 20", "change for a twenty").
        re.compile(
            r"\b(break|breaking|split|change|changing)\s+(a |an |my |the |this |some )?"
            r"(\$?\d+|ten|twenty|fifty|hundred|five|bills?|notes?|big bill)\b(?! minutes)"
            r"|\b(make|give|get|have|got|need) (me )?(some )?change\b"
            r"(?! (the|my|a) \w+ (setting|cycle))"
            r"|\bchange for (a |an |my |the )?(\$?\d+|ten|twenty|fifty|hundred|five|bills?)"
            r"|\bwhere (can|do) i get (some )?(quarters|coins|change)\b"
            # "I only have a twenty dollar bill": a bill to break.
            r"|(\b(only|just) (have|got|brought|carry)|\ball i('ve| have)? (got|have) is)\b"
            r".{0,12}\b(\$?\d+|ten|twenty|fifty|hundred)"
            r"( dollar)?( bills?| notes?)?\b(?! (minutes|loads?|quarters|cents))"
        ),
        "payment",
    ),
    (
        # Staff doing someone's laundry: the wash and fold service.
        re.compile(
            r"\b(do|wash|fold|clean)\b.{0,12}\b(my|our) (laundry|clothes|washing|wash|stuff)"
            r" for (me|us)\b"
            r"|\b(staff|you|someone|somebody|anyone|you guys)\b.{0,20}\b(do|wash|fold)\b"
            r".{0,6}\b(my|our) (laundry|clothes|washing)\b"
        ),
        "faq:wash-and-fold",
    ),
    (
        # The hours note: when to start the last wash to be done by midnight.
        re.compile(r"\b(last|latest)\b.{0,40}\b(start|load|wash|put)\b|\b(before|by) midnight\b"),
        "hours",
    ),
    (
        re.compile(r"\bwash(ing)? ?(and|n|&) ?fold|\bdrop[ -]?off\b|\bper pound\b|\ba pound\b"),
        "faq:wash-and-fold",
    ),
    (
        re.compile(
            r"\bdryer sheets?\b|\b(forgot|forget|need|buy|sell|get|have|cost|price|how much"
            r"|out of|no|bring|kind of|type of|which|where)\b.*\b(detergent|soap|softener|pods?)\b"
            r"|\b(detergent|soap|softener|pods?)\b.*\b(cost|price|how much|sell|buy|where)\b"
        ),
        "detergent",
    ),
    (
        re.compile(
            r"\b(lost|left|leave|forgot|forgotten|forget|missing|lose)\b.*\b(stuff|things?|items?"
            r"|something|anything|socks?"
            r"|clothes|jacket|bag|phone|keys?|wallet|shirt|sweater|hoodie|laundry)\b"
            r"|\b(keep|hold) (lost|left|forgotten)\b|\blost (stuff|items?|things|property)\b"
            r"|\b(left|leave|forgotten|forget) behind\b|\bunclaimed\b"
            r"|\b(forget|forgot|leave|left) (it|them|something|anything)\b.*\b(where|end up)\b"
            r"|\b(i|we) (left|forgot|lost) (a|an|my|our|the|some|his|her) (\w+ )?\w+"
            r" (here|behind|in (the|a|one of the) (washers?|dryers?|machines?)|yesterday"
            r"|last (night|week|time)|this morning|earlier)\b"
            r"|\b(things|stuff|items|clothes) (nobody|no one|people don'?t) (ever )?"
            r"(comes? back for|picks? up|claims?|collects?)"
        ),
        "lost-and-found",
    ),
    (
        re.compile(
            r"\bpayment (failed|declined|error|didn|did not|not)|card (declined|got declined"
            r"|was declined|failed|not working|won'?t)|\bdeclined\b|payment failed"
        ),
        "payment-problem",
    ),
    (
        re.compile(
            r"\bfirst time\b|\bnever (done|used|been)\b|\bhow does (this|it) (all )?work\b"
            r"|\bwhat do i do first\b|\bbefore (using|i use|starting)\b"
        ),
        "how-to-wash",
    ),
    (
        # What the shop is next to: its address says ("what store are you next to").
        re.compile(
            r"\b(what|which) (store|shop|business|building|place)s? (are you|is (it|this|the \w+)"
            r"|'s|are|is) (next to|beside|near|by)\b|\bwhat are you (next to|beside|near)\b"
        ),
        "address",
    ),
    (
        # Calling or texting at an hour is the staff phone, not the shop's hours ("is it ok to
        # text at 3am").
        re.compile(
            r"\b(call|text|phone|ring|message)\b.{0,20}\b(at|around|after|before) (\d|midnight\b)"
            r"|\b(call|text|phone|ring)\b.{0,20}\b(at night|late at night|overnight)\b"
        ),
        "staff-contact",
    ),
    (
        # "you" is the shop: "are you open right now" is not "what's open right now".
        re.compile(
            r"\b(are|r|is) (you|u|y'?all|the (shop|store|place|laundromat)) (guys )?(still )?open\b"
            r"|\bhow late\b.*\bopen\b|\bcome (in |by |here )?(at|around) \d"
            r"|\b(at|a) \d+ ?(in the morning|am|at night)\b|\b(in the middle of the night)\b"
        ),
        "hours",
    ),
)

_NUMBER = rf"\d{{1,2}}|{MACHINE_NUMBER_WORDS}"
# "7 and 8", "seven or eight", "5 & number 6": not "2 and 3 loads", "7 and 8 pm".
# Two machines by number, the second maybe of its own kind ("washer 5 and dryer 13": ``kb``).
_MACHINE_PAIR = re.compile(
    rf"\b(?P<a>{_NUMBER})\s*(?:and|or|&|n)\s*(?:(?:the\s+)?(?P<kb>washers?|dryers?|machines?)\s+)?"
    rf"(?:number\s+|#)?(?P<b>{_NUMBER})\b"
    r"(?!\s*(?:loads?|minutes?|mins?|hours?|dollars?|cents?|quarters?|pounds?|lbs?|am|pm"
    r"|o'?clock|bucks))"
)

_ASKS_DURATION = re.compile(
    r"\bhow long\b|\bhow much time\b|\bhow many (hours|days|minutes|weeks)\b"
    # How fast something is done is how long it takes: "how quick is it ready".
    r"|\bhow (fast|quick|quickly)\b"
)
_SAYS_DURATION = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a few|a couple of) "
    r"(minutes?|hours?|days?|weeks?|months?)\b"
)
_SAYS_MOMENT = re.compile(
    r"\b(next day|tomorrow|same day|noon|midnight|\d{1,2}(:\d\d)? ?(am|pm))\b", re.IGNORECASE
)

# Money the machine kept: taken, charged, or paid (the payment went through) and nothing ran.
_MONEY_LOST = any_of(
    # A refund wanted ("i want a refund"): money a machine kept, whichever it was.
    r"^(i|we)( want| need| would like|'d like|d like)( to get)? (a |my |our )?"
    r"(refund|money back)\b",
    r"\b(took|taken|takes|ate|eaten|eats|kept|keeps|swallowed|stole|charged|grabbed)\b"
    r".*\b(money|quarters?|coins?|payment|cash|change|bucks|dollars?|\$?\d+)\b",
    r"\b(charged|billed) me\b|\bcharged (twice|double)|\bdouble charged",
    r"\b(money|quarters?|coins?|cash|dollars?)( is| are| was| were| all)? (gone|lost|missing)\b",
    r"\b(payment|money|charge|it) (went|gone|go) through\b|\bwent through\b",
    r"\b(paid|payed|tapped|inserted|put in|put (my |the |some )?(money|quarters|coins|cash|\$?\d+)"
    r"( dollars)? in)\b.*\b(not|never|nothing|didn|doesn|won|isn|but)\b",
    # Coins or a payment put in and not counted: the machine kept them.
    r"\b(coins?|quarters?|money|payment|cash)\b.*(\bnot|\bnever|n'?t)\b.{0,12}"
    r"\b(register|registered|count|counted|show|showed|go in|went in|credit|credited)\b",
    # The same, the machine first: "it didn't count my quarters".
    r"(\bnot|\bnever|n'?t)\b (register|count|credit|show)( all| any of)? (my|the)"
    r" (coins?|quarters?|money|payment|cash)\b",
)
# Asking whether a machine works, not telling that it broke.
_ASKS_BROKEN = re.compile(
    r"^((and|so|ok(ay)?|hey|um|also|oh|well),? )*(is|are|was|does|do)\b"
    r"[^.!]*\b(broken|broke|working|work|out of order|down|ok|okay|fixed)\b[^.!,]*\??$"
)

# Asked of the shop, answered by no fact of it (see Cues.unstated).
_UNSTATED = (
    (
        re.compile(
            r"\b(discount(s|ed)?|coupons?|promo( codes?)?|promotions?|price[- ]?match(ing|es)?"
            r"|match (their|that|the|a|his|her|its) prices?|(reward|loyalty|bonus) points"
            r"|\d+ ?(%|percent) off)\b"
        ),
        "",
    ),
    (
        re.compile(
            r"\bhow (many|much) (pounds|lbs?|kilos?|kilograms?|kgs?|weight)\b"
            r"|\b(weight|pound|lb|kilo|kg) (limit|capacity|max|maximum)\b"
            r"|\b(pounds|lbs|kilos|kgs?) (of laundry |of clothes )?(can|does|will|would) (it|they"
            r"|the \w+( \w+)?) (hold|take|fit|handle)\b"
        ),
        "machine-info",
    ),
    (
        re.compile(
            r"\b(no[- ]heat )?air[- ]?(dry|drying|fluff|only)\b"
            r"|\bno[- ]heat( tumble)?( dry)? (option|setting|cycle|mode)\b"
            r"|\b(delicates?|permanent press|steam|sanitize|sanitizing|wrinkle) (cycle|setting"
            r"|option|mode)s?\b"
        ),
        "how-to-dry",
    ),
    (
        re.compile(
            r"\b(what|which) (temperature|temp|water temperature|heat|setting)\b.*\bfor (my |the )?"
            r"(darks|whites|colou?rs|colou?red|delicates|wool|silk|jeans|towels|sheets|bedding"
            r"|baby clothes|workout clothes|synthetics)\b"
        ),
        "how-to-wash",
    ),
    (
        # How much detergent to use: only an owner's text saying a measure would say it.
        re.compile(
            r"\bhow (much|many) (detergent|soap|softener|bleach|pods?|capfuls?|caps?|scoops?)\b"
            r".{0,25}\b(put|use|add|pour|need|go)\b"
            r"|\b(capfuls?|scoops?|ounces?|tablespoons?|cups?|pods?) of (detergent|soap)\b"
        ),
        "detergent",
    ),
)


@functools.lru_cache(maxsize=512)  # a long utterance's pieces are read many times over
def _reads(text: str) -> str:
    return spelled_hours(heard(text))


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
    unstated=_UNSTATED,
    # "whats", "wheres": typed without the apostrophe.
    # Also a question put after a statement ("i need a refund how long does that take").
    asks=re.compile(
        r"\?|^(and |so |ok(ay)? |also )?(how|what|where|which|who|why)s?\b"
        r"|\bhow (long|much|many|soon) (does|do|will|would|is|are|can|till|until)\b"
        # The question word put last, as a second language puts it ("six is what size").
        r"|\b(is|are) (what|where|which|how)\b|\b(what|which) (size|kind|type)\b"
    ),
    machine_pair=_MACHINE_PAIR,
    # English cuts at "and" ("is there wifi | and parking"); two things asked with "or" share
    # the predicate before them: "is there a bathroom or an atm around".
    object_pair=re.compile(
        r"^(?P<pre>(is there|are there|do you (guys )?have|where('s| is| are| can i find))) "
        r"(?P<a>((an?|the|any|some) )?\w+) or (?P<b>((an?|the|any|some) )?\w+)(?P<rest>.*)$"
    ),
    asks_duration=_ASKS_DURATION,
    says_duration=_SAYS_DURATION,
    says_moment=_SAYS_MOMENT,
    largest=re.compile(r"\b(biggest|largest)\b"),
    # "the small dryer", "the little one": the least of the kind, as no size is named so.
    smallest=re.compile(r"\b(smallest|littlest)\b|\b(small|little) (dryer|washer|machine|one)s?\b"),
    asks_week=re.compile(
        r"\b(what|which) days\b|\bdays of the week\b|\b(all|the whole|every day of the) week\b"
        r"|\bevery day\b|\bdaily\b|\bweekly\b"
    ),
    asks_loads=re.compile(
        r"\bhow many (loads|baskets|hampers)\b"
        r"|\bhow many (does|do|can|will|would|could) .{0,30}\b(take|hold|fit|handle)\b"
    ),
    elsewhere=re.compile(
        r"\b(nearby|near here|near by|around here|close by|in the area|nearest)\b"
    ),
    yes="Yes, ",
    no="No, ",
    money_lost=_MONEY_LOST,
    per_person=re.compile(
        r"\bhow many (washers|dryers|machines)\b.*\b(can|may|could|should)"
        r" (one person|a person|one customer|each person|a customer|i|we|you)\b"
        r".*\b(use|take|have|run)\b.*\b(at once|at a time|at the same time|together|max"
        r"|maximum)\b"
        r"|\b(limit|max|maximum)\b.*\b(machines?|washers?|dryers?)\b.*\bper (person|customer)\b"
        r"|\b(is there a|what's the|what is the) (limit|max|maximum) (per|for each)"
        r" (person|customer)"
    ),
    calls=re.compile(
        r"\b(call|text|phone|ring|reach|contact)\b|\b(pick|picks|picking) (it )?up\b"
        r"|\b(answer|answers|answering) (the phone|calls|texts)\b"
        # "when do they answer that number", "does anyone reply to texts"
        r"|\b(answer|answers|answering|respond|responds|reply|replies)\b.*"
        r"\b(phone|number|calls?|texts?|messages?)\b"
        r"|\b(do|does|will|would) (they|staff|someone|anyone|anybody|somebody) (answer|respond"
        r"|reply)\b"
    ),
    of_two=re.compile(
        r"(?:(?<=washer)|(?<=dryer)|(?<=machine))s(?=\s+(?:numbers?\s+|#)?\d)"
        r"|\s+\b(?:both|each|either)\b(?: of (?:them|those|the two))?"
    ),
    shop_opens=re.compile(
        r"\b(you|you guys|y'all|shop|store|place|laundromat|laundry|doors?) (open|close|shut)"
        r"(s|ing)?\b|\b(opening|closing) (hours|time)\b"
    ),
    asks_latest=re.compile(
        r"\bhow late\b|\b(until|till|by) what time\b|\b(latest|last) (time|i can|we can|you can)\b"
    ),
    asks_soonest=re.compile(
        r"\b(finish(es|ed)?|done|free|ready|available|open|end(s|ed)?|stop(s|ped)?)( up)?"
        r" (first|soonest|the soonest|earliest|the earliest)\b"
        r"|\b(first|soonest|next) (one )?to (finish|end|be done|be free|free up|open up)\b"
    ),
    asks_have=re.compile(
        r"\b(is there|are there|do (you|y'?all|u) (guys )?(have|got)|have you got|you got"
        r"|got any)\b"
    ),
    asks_ending=re.compile(r"\b(finish(es|ed)?|done|end(s|ed)?|stop(s|ped)?)\b"),
    use_anyway=re.compile(
        r"\b(should|can|could|may|shall|do) (i|we) (just |still )?(keep (on )?(using|running)"
        r"|continue (using|to use|running)|go on using|carry on using|use it)\b"
        r"|\b(is it|is it still) (safe|ok|okay|fine|alright) to (use|run)\b"
    ),
    more_money=re.compile(
        r"\b(put|add|insert|feed|pay|try)( in| it)? (more|another|again|extra)\b"
        r".*\b(money|quarters?|coins?|cash|bucks|dollars?|in|again)\b"
        r"|\b(pay|put money in|put it in|insert it|tap) again\b"
    ),
    what_now=re.compile(
        r"^((so|ok(ay)?|and|well|um|then|alright),? )*(now )?(what (should|do|can|must|am) (i|we)"
        r" (do|supposed to do)\b|what now\b|now what\b|what next\b|what do i do\b)"
    ),
    asks_broken=_ASKS_BROKEN,
    says_broken=re.compile(r"\b(broken|broke|out of order|down)\b"),
    asks_place=re.compile(r"\bwhere\b|\bnext to\b|\bnear\b|\bclose to\b|\bwhereabouts\b"),
    says_place=re.compile(
        r"\b(next to|behind|by the|near|beside|in front of|across from|at the back|on the sign"
        r"|next door)\b",
        re.IGNORECASE,
    ),
    asks_price=re.compile(
        r"\bhow much\b|\bcosts?\b|\bprice\b|\b(do|does|would|will) (you|they|it) charge\b"
    ),
    says_money=re.compile(r"\$\d|\b\d+(\.\d\d)? (dollars?|cents?)\b|\bfree\b"),
    asks_name=re.compile(
        r"\bname\b|\bwhat('?s| is) (this|it|the)( \w+)? called\b|\bcalled\b( again)?\??$"
    ),
    asks_need=re.compile(r"\b(need|have to|has to|must|required|only)\b"),
    asks_closed=re.compile(r"\b(close|closes|closed|shut|shuts)\b"),
    asks_identity=re.compile(
        r"\b(are|r) (you|u) (a |an |even )?(real|robot|bot|human|person|computer|machine|ai|alive"
        r"|recording|people)\b|\bwho (are|r) (you|u)\b|\bwhat (are|r) (you|u)\b(?! \w+ing)"
        r"|\bam i (talking|speaking) to\b"
    ),
    # After the request ("can I add time if they're still wet"), or before it up to a comma or
    # a yes/no opener ("if they're still wet can I add time").
    load_count=load_count,
    counted=counted,
    asks_total=re.compile(
        r"\btotal\b|\brun me\b|\bset me back\b|\baltogether\b|\bin all\b|\bcheaper\b"
        r"|\ball together\b|\b(come|comes) to\s*([?.!,]|$)"  # "what do they come to?"
        r"|\bwhat (would|will|does) (that|it|they) (be|come to)\b"
    ),
    hour_asked=hour_asked,
    money_given=money_given,
    minutes_wanted=minutes_wanted,
    asks_enough=re.compile(
        r"\benough\b|\b(cover|covers|afford)\b|\b(is|would|will) (that|it) (do|be ok|be okay)\b"
    ),
    asks_coins=re.compile(r"\bhow many (quarters|coins)\b|\bin (quarters|coins)\b"),
    weight_given=weight_given,
    per_weight=per_weight,
    reads=_reads,
    on_machine=frozenset(["on", "number"]),
    asks_count=re.compile(r"\bhow many\b"),
    not_dry=re.compile(
        r"\b(still |kinda |a bit |a little |too )?(damp|wet|not dry|not fully dry)\b"
    ),
    may_i=re.compile(
        r"\b(can|could|may) (i|we)\b|\b(am i|are we) (allowed|able)\b"
        r"|\bis it (ok|okay|alright|allowed)\b"
    ),
    grants=re.compile(r"^(you can|you may|you're welcome to)\b", re.IGNORECASE),
    tells=re.compile(r"^((so|well|ok(ay)?|um),? )*(i|i'm|im|i've|ive|we|we're|my|our)\b"),
    back=re.compile(r"\b(then|that time)\b"),
    announces=re.compile(
        r"^((oh|and|also|ok(ay)?|so|um|uh|just|wait|sorry),? )*"
        r"((one|1|a couple|two) (more|last|other)|another|a (quick|last)|quick|last|final)"
        r" (thing|question|q|one)s?( (for you|then))?[.!?]*$"
        # "I'd like to know two things", "I have a few questions": the questions announced.
        r"|^((hi|hello|hey|ok(ay)?|so|um|uh),? )*(i('d| would) like to (know|ask)|i (have|got)"
        r"|i've got|i wanna (know|ask)|i want to (know|ask)|can i ask( you)?|let me ask( you)?)"
        r" (two|2|three|3|a few|some|a couple( of)?) (things|questions|qs)( (please|quickly))?"
        r"[.!?]*$"
        # "First, ...", "Second, ...", "and lastly": the order a list of them is put in.
        r"|^(and )?(first(ly)?|second(ly)?|third(ly)?|lastly|finally)[.!?:)]*$"
    ),
    asks_cheaper=re.compile(
        r"\b(cheaper|cheapest|less expensive|costs? less|pricier|more expensive|price difference"
        r"|difference in price)\b"
    ),
    asks_faster=re.compile(r"\b(faster|quicker|quickest|fastest|shorter|sooner|slower|longer)\b"),
    repeat=re.compile(
        r"(^|[,.!?] )((sorry|pardon|excuse me|what|huh|um+|uh+)[,.!? ]+)*((can|could|would|will)"
        r" (you|u) )?(please )?(say|repeat|tell me|read) (that|it|this|the (phone )?number|that"
        r" (phone )?number|what you said)(,? (once )?(again|more|one more time))?(,? please)?"
        r"(,? (more )?(slowly|slower))?(,? please)?[.!? ]*$"
        r"|^((sorry|pardon( me)?|excuse me|what|huh|come again|say again|again|one more time"
        r"|what did you say|i didn'?t (catch|hear|get) (that|it|you))[,.!? ]*)+$"
    ),
    asks_for=re.compile(
        r"\b(can|could|would|will) (you|u) (please )?(get|book|order|call|bring|find|buy|make)\b"
        r"|^((please|ok(ay)?|also|and),? )*(get|book|order|call|bring|find|buy) (me|us)\b"
        # Bidden, not asked: "play some music for me and ...", "sing me a song".
        r"|^((please|ok(ay)?|also|and|now),? )*(play|sing|tell|read|text|send|email) (me|us|some"
        r"|a|an|that|it|this)\b"
    ),
    it=re.compile(r"\b(it|that one|this one)\b"),
    holiday=re.compile(
        r"\b(christmas|xmas|thanksgiving|new year'?s|easter|holidays?|independence day"
        r"|(4th|fourth) of july|july (4th|fourth)|labou?r day|memorial day|halloween)\b"
    ),
    condition=re.compile(
        # Not a question word's own verb: "if I've got six loads what should I use".
        r"^(if|in case)\b.*?(,\s*|(?<!\bwhat)(?<!\bwhich)(?<!\bwhere)(?<!\bhow)(?<!\bwho)"
        r"\s+(?=(can|could|should|do|does|will|would|may|is|are) "
        r"(i|we|you|it|there|someone|somebody|anyone|anybody|staff)\b))"
        r"|\s*,?\s*\b(if(?! (so|not)\b)|in case)\b.+$"
    ),
    compares=re.compile(
        r"\b(which|what|whats)( one)?\b.*\b((?<!add )(?<!bit )(?<!some )more|less|longer|shorter"
        r"|bigger|smaller|cheaper|better|faster|quicker|quickest|fastest|slower|most|least|best)\b"
        # Not "a different machine", which is another one.
        r"|\bworth (it|the|paying|getting)\b|\bdifference\b|\bdifferent\b(?! (one|machine"
        r"|washer|dryer)s?\b)"
        r"|\bvs\b|\bversus\b|\bcompare|\b(bigger|cheaper|better|faster|longer|more|slower|quicker"
        r"|smaller|shorter|less) than\b"
    ),
    other=re.compile(
        r"\bthe other\b(?! (people|person|customers?|folks|side|day|way))( ones?)?"
        r"|\bother one\b"
    ),
)
