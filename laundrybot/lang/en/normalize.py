"""English normalisation: a typed or recognised question -> tokens, a machine reference, features.

The pipeline, each step there because of a kind of input we get:
  1. lowercase, expand contractions ("didn't" and the apostrophe-less "didnt" -> "did not"),
     split glued digits ("washer5") and "#5"; typed questions have typos and no apostrophes.
  2. fix misspelt words against the known vocabulary (edit distance 1, or 2 for long words),
     because speech recognisers and thumbs both produce near-misses ("drier", "detergant").
  3. turn number words into digits ("twelve" -> 12); the homophones "to/too/for/fore/won/ate"
     only right after a machine word ("dryer to free" -> dryer 2), never elsewhere ("how much for").
  4. find the machine reference (kind + number), replacing the number with the NUM token so
     matching learns "a number was given" without caring which.
  5. stem and map synonyms, drop filler words, add bigrams -> features for the matcher.

The result type, NUM and the Speller are shared by every language (dialog/normalize.py).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

from laundrybot.dialog.normalize import NUM, MachineRef, Normalized, Speller, word_set
from laundrybot.lang.en.numbers import (
    MACHINE_NUMBER_WORDS,
    TENS_VALUES,
    UNIT_VALUES,
    ordinal_words,
)

MACHINE_WORDS = {"machine": None, "washer": "washer", "dryer": "dryer"}
_NUMBER_MARKERS = {"number", "no", "num", "nr"}

_UNITS = UNIT_VALUES
_TENS = TENS_VALUES
# Words a recogniser writes for a number it heard; only trusted right after a machine word.
_HOMOPHONES = {"to": 2, "too": 2, "tu": 2, "for": 4, "fore": 4, "won": 1, "ate": 8, "tree": 3}
# ... and only when what follows fits "dryer <n> ...": end of question or a status-ish word.
# "a dryer for comforters" or "dryer for 30 minutes" must not become a machine number.
_AFTER_NUMBER = word_set(
    "is free done busy available open working broken finished ready took take ate eat leaking "
    "be "
    "leaks stuck still not in has have will does did running on please empty status yet now "
    "started start starting shows says door error and or right there "
    "charged charges stopped stops won't wont keeps kept isn't doesn't didn't smells makes "
    "are"
)
# "the sixth washer", "the 6th dryer": an ordinal before a machine word is its number.
_ORDINALS = {ordinal_words(n): n for n in range(1, 21)}
_ORDINAL_ENDINGS = frozenset(["st", "nd", "rd", "th"])
# "one" is a pronoun too ("which one is free"), so it counts only after a machine word.
_ONLY_AFTER_MACHINE = {"one"}

_CONTRACTIONS = {
    "won't": "will not", "wont": "will not", "can't": "can not", "cant": "can not",
    "cannot": "can not", "ain't": "is not", "aint": "is not", "didnt": "did not",
    "doesnt": "does not", "dont": "do not", "isnt": "is not", "wasnt": "was not",
    "arent": "are not", "havent": "have not", "hasnt": "has not", "wouldnt": "would not",
    "couldnt": "could not", "shouldnt": "should not", "werent": "were not",
    "whats": "what is", "wheres": "where is", "theres": "there is", "hows": "how is",
    "whens": "when is", "im": "i am", "ive": "i have", "youre": "you are",
}  # fmt: skip
# Fixed spellings: short words where edit distance would guess wrong, and frequent slips.
SPELLING = {
    "iz": "is", "r": "are", "u": "you", "ur": "your", "ya": "you", "wich": "which",
    "wat": "what", "wut": "what", "pls": "please", "plz": "please", "thx": "thanks",
    "ty": "thanks", "tmrw": "tomorrow", "tmr": "tomorrow", "2moro": "tomorrow",
    "drier": "dryer", "driers": "dryers", "dryier": "dryer", "hrs": "hours",
    "mins": "minutes", "min": "minutes", "n": "and", "sox": "socks", "cuz": "because",
    "rn": "now", "2nite": "tonight", "tonite": "tonight", "sun": "sunday", "mon": "monday",
    "tues": "tuesday", "wed": "wednesday", "thurs": "thursday", "fri": "friday",
    "yall": "you", "y'all": "you", "bc": "because", "2day": "today", "fone": "phone",
    "phon": "phone", "brng": "bring", "dyer": "dryer", "dyers": "dryers",
    "hw": "how", "wsh": "wash", "wht": "what", "staf": "staff", "stff": "staff",
}  # fmt: skip
_TEEN_HEARD = {"for": "four", "fore": "four", "eigh": "eigh", "eight": "eigh"}
# Multi-word phrases folded before anything else.
_PHRASES = (
    # A teen heard as two words: "dryer for teen" is dryer 14, "six teen" 16.
    (
        re.compile(r"\b(for|four|fore|six|seven|eigh|eight|nine|fif|thir) teen\b"),
        lambda m: _TEEN_HEARD.get(m.group(1), m.group(1)) + "teen",
    ),
    (re.compile(r"\bwi[\s-]?fi\b|\bwhy[\s-]?fi\b|\bwife i\b"), "wifi"),  # and as heard
    # A part of the day greets only as a greeting ("good morning", "evening!"); "open in the
    # morning" asks a time.
    (re.compile(r"\bgood (morning|afternoon|evening)\b|^(morning|evening)\b"), "hi"),
    # A compound heard or typed apart: "the pass word", "pass code".
    (re.compile(r"\bpass (word|code)(s?)\b"), r"password\2"),
    (re.compile(r"\b(sun|mon|satur|fri) day\b"), r"\1day"),
    (re.compile(r"\bsat\b(?=,? (and |& |n |or )?sun)"), "saturday"),  # "sat and sun"
    (re.compile(r"\bwashing machines?\b"), "washer"),
    (re.compile(r"\bwasher dryer\b"), "washer and dryer"),
    (re.compile(r"\bclothes dryers?\b"), "dryer"),
    # "is the lot out back free": the car park ("a lot of towels" is many).
    (re.compile(r"\b(the|your|ur) lot\b(?! of\b)"), r"\1 parking lot"),
    (re.compile(r"\bsleeping bags?\b"), "comforter"),
    (re.compile(r"\bcash (machine|point)s?\b|\batm machines?\b"), "atm"),
    # Spelt out, as a recogniser writes the letters: "a t m", "a tm".
    (re.compile(r"\ba\.? ?t\.? ?m\b\.?"), "atm"),
    (re.compile(r"\bhow much longer\b"), "how long left"),
    (re.compile(r"\bpaper money\b|\bbank ?notes?\b|\bpaper bills?\b"), "bills"),
    # Heard or typed for "to": "how much is it too dry my clothes", "how much 2 dry".
    (re.compile(r"\b(is it|costs?|much) (too|2) (dry|wash|use)\b"), r"\1 to \3"),
    (re.compile(r"\b(rest|bath|wash) rooms?\b"), "restroom"),
    (re.compile(r"\blint (trap|screen|catcher)s?\b"), "lint filter"),
    # Heard for "staff": nobody asks a laundromat for its stuff hours.
    (re.compile(r"\bstuff (hours|members?|phone|number|times|schedule)\b"), r"staff \1"),
    (re.compile(r"\blost (and|n|&|in|an) found\b"), "lostandfound"),
    (
        re.compile(r"\b(add|put|load) (money|funds|credit|cash|value) (on|onto|to|in|into)\b"),
        "top up",
    ),
    (re.compile(r"\breload\b|\brecharge\b"), "top up"),
    # Heard for "cards": nobody pays a laundromat in cars.
    (re.compile(r"\b(take|accept|pay with|use) cars\b"), r"\1 cards"),
    # Heard for "for": a phone number is for someone, not for a machine.
    (
        re.compile(
            r"\b(phone|contact|emergency) number (four|4) (the )?(staff|attendants?|someone)\b"
        ),
        r"\1 number for \4",
    ),
    # A person's number is their phone number: "the number for the staff", "the owner's number".
    (
        re.compile(
            r"\b(phone |contact )?number (for|of) (the |an? )?(staff|attendants?|owner|manager)\b"
        ),
        r"\4 phone number",
    ),
    (re.compile(r"\b(staff|attendant|owner|manager)('s)? number\b"), r"\1 phone number"),
    # The number asked of "them" or the shop is the staff's phone: "what's their number".
    (
        re.compile(r"\b(what('?s| is)|give me|tell me|send me) (their|your) (phone )?number\b"),
        r"\1 the staff phone number",
    ),
    # What is up with a machine is its state: "whats up with 4", "what's up with dryer 9".
    (
        re.compile(
            r"\bwhat('?s| is) (going )?(up|on) with (?P<m>((the )?(washer|dryer|machine|number)"
            rf" )?(\d{{1,2}}|{MACHINE_NUMBER_WORDS}))\b"
        ),
        r"is \g<m> free",
    ),
    # What a machine is doing is its state: "what's dryer 12 doing", "whats number 3 up to".
    (
        re.compile(
            r"\bwhat('?s| is) ((the )?(washer|dryer|machine|number) (\w+)|it|that one)"
            r" (doing|up to)\b"
        ),
        r"is \2 free",
    ),
    # Typed for "buy": "where can i by detergent".
    (re.compile(r"\b(can|could|do|to|where) (i|we|you|u) by\b"), r"\1 \2 buy"),
    # Laundry done by someone else is the wash-and-fold service: "somebody who does people's
    # laundry", "leave my stuff for you guys to wash".
    (
        re.compile(
            r"\b(does|do|doing) (other )?(people'?s|peoples|my|our|your|customers'?) (laundry"
            r"|washing)\b|\bfor (you|you guys|y'?all|staff|someone|somebody) to (wash|do)\b"
        ),
        "wash and fold",
    ),
    # What is next door is where the shop is: its address names its neighbour.
    (
        re.compile(r"\bwhat('?s| is) (right )?next (door|to (you|this place|the laundromat))\b"),
        "where are you located",
    ),
    # Cash drawn is an ATM asked for ("where can I pull out some cash"), not money back.
    (
        re.compile(
            r"\b(pull out|take out|withdraw)\s+(some\s+|\$?\d+\s+)?(cash|money|bucks|dollars)\b"
        ),
        "atm",
    ),
    # People come and go, machines don't: "when do they leave", "do they work sundays" ask
    # the staff's hours, whatever the turn before was about (not "is it open before they
    # arrive": there they are no subject of the question).
    (
        re.compile(
            r"(^|\b(?:do|and|did|will|so) )(?:they|the guys|the people|somebody|someone) "
            r"(?=(leave|go home|head home|"
            r"get here|get in|come in|show up|arrive|clock in|clock out)\b|work (on )?"
            r"(mon|tues|wednes|thurs|fri|satur|sun|week)(day|end)s?\b)"
        ),
        r"\1staff ",
    ),
    # Heard apart: "over heating" is overheating.
    (re.compile(r"\bover (heat(s|ed|ing)?)\b"), r"over\1"),
    # Being new is no time asked: "first time here, how do I use the dryers" is not about
    # adding time.
    (re.compile(r"\bfirst[ -]?time(rs?)?\b"), "first"),
    # What a price is said as: "what will a wash run me", "set me back".
    (re.compile(r"\b(run|set) (me|you|us|ya|u)( back)?\b"), "cost me"),
    # How much laundry a machine takes is how many loads it holds, not how long it takes.
    (
        re.compile(r"\bhow much (laundry|clothes|stuff|washing) (can|does|will|would)\b"),
        "how many loads \\2",
    ),
    # Throwing something in (the machine) is washing it: "can I throw my rug in".
    (
        re.compile(
            r"\b(throw|toss|put|chuck) (my |the |a |an |this |these |our )?(.{1,40}?)"
            r" in( there| it)?$"
        ),
        r"wash \2\3",
    ),
    # What a quarter gets you in a dryer is its minutes.
    (
        re.compile(
            r"\bwhat (does|do|will|would|can) (a |one |each |1 )?(quarter|25 cents)"
            r" (get|give|buy)s? (me|you|us)\b"
        ),
        "how many minutes per quarter",
    ),
    # "what can I use to pay" asks what one pays with, not what to use.
    (re.compile(r"\b(use|need) to pay with\b|\buse to pay\b"), "pay with"),
    # Heard for "add": "how do I want money to my card".
    (
        re.compile(r"\bhow (do|can) i (want|off|of|at|had) money (on|onto|to|into)\b"),
        "how \\1 i top up",
    ),
    (re.compile(r"\bapple pay\b|\bgoogle pay\b|\bsamsung pay\b"), "phonepay"),
    # A trailing "or something" asks nothing more: "is there like a rewards card or something".
    (re.compile(r"\s*\bor (something|what|whatever|anything|so)\b(?=[\s?.!]*$)"), ""),
    # A trailing "at least" hedges and asks nothing more: "do you have folding tables at least".
    (re.compile(r"\s*\bat least\b(?=[\s?.!]*$)"), ""),
    # Money put in a machine is paying it: "where do I put the money".
    (re.compile(r"\b(put|insert|stick) (the |my |some )?(money|quarters|coins|cash)\b"), "pay"),
    # Getting a machine going is starting it: "how do I get the washer going".
    (
        re.compile(
            r"\b(get|set) (the |my |this |a )?(washer|dryer|machine|wash|load)s? "
            r"(going|started|running|on)\b"
        ),
        r"start the \3",
    ),
    # The shop asked where it is: "where are you", "where r u guys at".
    (
        re.compile(r"\bwhere (are|r) (you|u|ya|y'all)( guys| folks| all)?( at)?\b(?! located)"),
        "where are you located",
    ),
    # Another machine is not the one talked about: "is another one free" asks the free ones.
    (
        re.compile(r"\b(another|a different|any other|some other) (one|machine)\b(?! of\b)"),
        "any free machine",
    ),
    # A machine one can use now is a free one: "which dryer can I use then" (not which fits
    # a load: "which washer should I use for a rug").
    (
        re.compile(
            r"\b(which|what) ((\w+ )?(one|ones|washers?|dryers?|machines?)) (can|could)"
            r" (i|we) use(?=( now| instead| then| right now)?[\s?.!]*$)"
        ),
        r"\1 \2 is free",
    ),
    # Working a machine is using it: "how do I work these washers".
    (re.compile(r"\bhow (do|does|can|should) (i|you|we|one) (work|operate)\b"), r"how \1 \2 use"),
)

# Filler that carries no meaning for telling intents apart.
_STOPWORDS = word_set(
    "a an the is are am was were be been being i me my mine myself you your yours it its "
    "this that these those to of do does did can could would will shall should please uh um "
    "er hey so just and or we us our they them their he she him her his have has had with "
    "at by from also very really ok okay well like oh actually literally basically kinda "
    "sorta honestly even"
)
# Words folded onto one canonical form after stemming (both sides of matching see the same).
_SYNONYMS = {
    "cost": "price", "fee": "price", "expensive": "price", "cheap": "price",
    "pricing": "price", "rate": "price", "cheaper": "price", "pricier": "price",
    # The kind of machine matters, not the word form: "wash", "washer", "washing" alike.
    "washer": "wash", "washing": "wash", "dryer": "dry", "drying": "dry",
    "launder": "laundry", "laundromat": "shop",
    # "anywhere to get some", "somewhere I can sit": where it is done.
    "anywhere": "where", "somewhere": "where",
    "store": "shop", "place": "shop", "business": "shop",
    "avail": "available", "vacant": "free", "empty": "free", "unoccupied": "free",
    "occupied": "busy", "taken": "busy",
    "finish": "done", "complete": "done", "ready": "done",
    "soap": "detergent", "softener": "detergent",
    "restroom": "bathroom", "toilet": "bathroom", "washroom": "bathroom", "loo": "bathroom",
    "pee": "bathroom",
    "employee": "staff", "attendant": "staff", "worker": "staff", "owner": "staff",
    "manager": "staff", "someone": "person", "somebody": "person", "human": "person",
    "anyone": "person", "anybody": "person", "people": "person",
    "telephone": "phone", "call": "call", "reach": "contact",
    "quarter": "coin", "change": "coin", "cash": "cash",
    "credit": "card", "debit": "card", "visa": "card", "mastercard": "card",
    "tomorrow": "day", "today": "day", "tonight": "day", "weekend": "day",
    "monday": "day", "tuesday": "day", "wednesday": "day", "thursday": "day", "friday": "day",
    "saturday": "day", "sunday": "day", "weekday": "day",
    "forgot": "forget", "forgotten": "forget", "misplace": "lost", "lose": "lost",
    "refunded": "refund", "reimburse": "refund", "network": "wifi",
    "internet": "wifi", "online": "wifi",
    "sold": "sell", "selling": "sell",
    "leak": "leak", "flood": "leak", "water": "leak",
    "broke": "broken", "busted": "broken", "jammed": "stuck", "jam": "stuck",
    # Animals are pets, and a car is parked, whichever word is said.
    "dog": "pet", "cat": "pet", "puppy": "pet", "kitten": "pet", "animal": "pet",
    "car": "park", "truck": "park", "vehicle": "park", "van": "park", "parking": "park",
    "normal": "regular", "standard": "standard", "mat": "rug", "carpet": "rug",
    # A washer that takes a thing fits it; a shop shut is closed.
    "handle": "fit", "shut": "close",
    # Bedding as big as a comforter is washed like one.
    "duvet": "comforter", "quilt": "comforter", "blanket": "comforter",
    "bedspread": "comforter", "doona": "comforter", "eiderdown": "comforter",
    "hello": "hi", "hey": "hi", "howdy": "hi",
    "thank": "thanks", "thx": "thanks", "appreciate": "thanks",
    # A card that collects something is the loyalty card.
    "reward": "loyalty", "rewards": "loyalty", "membership": "loyalty", "member": "loyalty",
    "hamster": "pet", "rabbit": "pet", "bunny": "pet", "bird": "pet", "parrot": "pet",
    "ferret": "pet", "kitty": "pet", "doggy": "pet", "pup": "pet", "pooch": "pet",
    # Detergent brands are detergent.
    "tide": "detergent", "persil": "detergent", "purex": "detergent", "ariel": "detergent",
}  # fmt: skip
# Irregular forms the suffix stripper would get wrong.
_STEM_EXCEPTIONS = {
    "does": "do", "is": "is", "was": "was", "has": "has", "bus": "bus", "gas": "gas",
    "clothes": "clothes", "dress": "dress", "address": "address", "less": "less",
    "minutes": "minute", "hours": "hour", "dryers": "dryer", "washers": "washer",
    # Tense carries meaning here: "took my money" is a complaint, "do you take cards" is not;
    # "I left my bag" is lost property, "can I leave my laundry" a rule.
    "machines": "machine", "ate": "ate", "took": "took", "taking": "take", "left": "left",
    "called": "called",
    "lost": "lost", "paid": "pay", "stuck": "stuck", "sheets": "sheet", "times": "time",
    "running": "run", "working": "work", "works": "work", "worked": "work", "open": "open",
    "opened": "open", "opening": "open", "closing": "close", "closed": "close",
    "leaking": "leak", "leaks": "leak", "leaked": "leak", "jeans": "jeans", "heating": "heat",
    "this": "this", "its": "its", "yes": "yes", "dyeing": "dye", "dying": "dye",
    "charged": "charge", "charges": "charge", "wifi": "wifi", "always": "always",
    "hi": "hi", "thanks": "thanks", "status": "status", "restrooms": "bathroom",
}  # fmt: skip


_APOSTROPHES = re.compile(r"[\u2018\u2019`´]")
_GLUED = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")
_NOT_WORD = re.compile(r"[^a-z0-9']+")


# Readings of the whole utterance that the cues' patterns and the normaliser must both see:
# slips of the recogniser that change the meaning, a correction said as one, and sayings the
# patterns know by another name (a card that won't go through is declined).
_HEARD = (
    # An hour written with dots ("3 a.m.", "10 p.m"): "am" and "pm", never "a" and "m" (a bare
    # 3 read as a machine).
    (re.compile(r"\b([ap])\.\s?m\b\.?", re.IGNORECASE), r"\1m"),
    # Heard for "where": an utterance does not open with "weird can I park".
    (re.compile(r"^weird (can|do|is|are|should|would)\b"), r"where \1"),
    # A card that "won't go through" is declined.
    (
        re.compile(
            r"\b(won't|wont|will not|doesn't|does not|didn't|did not|isn't) go(ing)? through\b"
        ),
        "is declined",
    ),
    # Heard for "work": "how do the dryers weird".
    (re.compile(r"^(how (do|does) (the |a |this |these )?\w+) weird$"), r"\1 work"),
    # A correction of the last question is a follow-up: "no sorry, I meant the dryer".
    (
        re.compile(
            r"^((no|nope|oh|sorry|wait|actually|oops)[ ,.!]+)*(i meant|i was asking about"
            r"|i'm asking about|i am asking about)\b|^((no|nope|sorry)[ ,.!]+)+i mean\b"
        ),
        "what about",
    ),
    # "..., and if so, which one can I use": the question before answered yes, no condition
    # of its own (nor a what-if).
    (re.compile(r"(^|[,;.?!] |\band )if (so|yes)\b,? ?"), r"\1"),
    # Heard for "washer" and "giant": no watcher or jiant in a laundromat.
    (re.compile(r"\bwatcher(s?)\b"), r"washer\1"),
    (re.compile(r"\bjiant\b"), "giant"),
    # Heard for "one" after a size: "the giant won", "the big won"; typed as a digit: "the
    # giant 1" (a machine is named by its kind, "washer 1", not its size).
    (
        re.compile(
            r"\b(giant|big|large|small|regular|standard|other|biggest|largest|smallest|little"
            r"|same|first|last|next|cheap|cheaper|cheapest) (won|1)\b(?! (and|or|n|&) \d)"
        ),
        r"\1 one",
    ),
    # "wait, ..." and "hold on, ..." open a question and ask nothing themselves; nor does
    # "even" in "are you even open".
    (re.compile(r"^(oh )?(wait|hold on|hang on)\b[,.!]* (?=\w)"), ""),
    (re.compile(r"\b(you|u|it|they|we|i) even\b"), r"\1"),
    # Typed "4" for "for" after what asks a price or a time: "hw much 4 the big dryer" (not
    # four of them, which the counting cue would read).
    (
        re.compile(r"\b(much|price|cost|costs|pay|charge|long|time|minutes) 4 (the|a|an|my)\b"),
        r"\1 for \2",
    ),
    # A card used is a card paid with: "can I use my card on the dryers" asks no free dryer.
    (re.compile(r"\buse (my |a |the |your )?(\w+ )?(card|cards)\b(?! reader)"), r"pay with \2\3"),
    # What a machine holds is its loads, not a price: "how much does the giant hold",
    # "what's the large washer hold".
    (
        re.compile(
            r"\b(what(?:'?s| is| does| do| will| can| would)|how much (?:does|do|will|can|would"
            r"|is)) (?P<m>(the |a |that |this |each |one )?(\w+ )?(washers?|dryers?|machines?"
            r"|ones?|\w+)) (hold|fit)\b"
        ),
        r"how many loads does \g<m> hold",
    ),
    # Paying "on" a machine is paying for it: "can I pay with card on the dryers".
    (
        re.compile(
            r"\b(card|cards|coins|quarters|cash|phone)( \w+)? on (the |these |those )?"
            r"(washers?|dryers?|machines?)\b"
        ),
        r"\1\2 for \3\4",
    ),
    # Texting: "r u open", "do u take cards", "r 10 and 11 free": the cues read it spelt out.
    (re.compile(r"\bu\b"), "you"),
    (re.compile(r"^r\b|\br(?= you\b)"), "are"),
    # A machine open is a free one: "is 10 open", "are 10 and 11 open", "a giant washer,
    # any open" (not the shop open: "open late", "open on sunday").
    (
        re.compile(
            r"\b((washers?|dryers?|machines?|ones?|number \w+|\d{1,2}|any"
            rf"|{MACHINE_NUMBER_WORDS})( (still|even|now"
            r"|currently|right now))?) open\b(?! (late|early|today|tonight|tomorrow|on|at|till"
            r"|until|after|before|24|all|every|during|in the))"
        ),
        r"\1 free",
    ),
    # Heard for "staff": nobody calls or talks to a laundromat's stuff.
    (
        re.compile(r"\b(call|calling|talk to|talk with|speak to|speak with) (the )?stuff\b"),
        r"\1 staff",
    ),
    # A machine at home is none of the shop's: "my washer at home flooded the basement, so
    # here I am" tells why they came, no problem to report (the clause, up to its end).
    (
        re.compile(
            r"\b(my|our|the) (own )?(washer|dryer|washing machine|machine)s? (at|back) "
            r"(home|my (house|place|apartment|flat))\b[^,;.?!]*"
        ),
        "",
    ),
    # A question word lost at the start of speech (the recogniser missed the first word): an
    # utterance does not open with "much is machine eight" or "size is washer five".
    (re.compile(r"^much (is|are|does|do|for|to|would|will|it)\b"), r"how much \1"),
    (re.compile(r"^size (is|are)\b"), r"what size \1"),
    # Heard (and typed) for "large": no lodge washer in a laundromat.
    (re.compile(r"\blodge (washers?|dryers?|machines?|ones?|wash|load)\b"), r"large \1"),
    # Heard for "morning" after a day: "on tuesday more in".
    (
        re.compile(
            r"\b((mon|tues|wednes|thurs|fri|satur|sun)days?|today|tomorrow|weekdays?) more in\b"
        ),
        r"\1 morning",
    ),
    # "in" lost before a part of the day after an hour: "at three the morning".
    (
        re.compile(
            r"\b(at|by|till|until|before|after) (\d{1,2}|one|two|three|four|five|six|seven"
            r"|eight|nine|ten|eleven|twelve)( o'clock)? the (morning|afternoon|evening|night)\b"
        ),
        r"\1 \2\3 in the \4",
    ),
)


_DOLLARS = re.compile(r"\$\s?(\d+)(?![.,]?\d)")


def heard(text: str) -> str:
    """Lowercase ``text`` with the recogniser's slips that change its meaning undone."""
    text = text.lower()
    for pattern, replacement in _HEARD:
        text = pattern.sub(replacement, text)
    return text


def split_words(text: str) -> list[str]:
    """Lowercase words with contractions expanded; no spelling fixes yet."""
    text = _APOSTROPHES.sub("'", heard(text))
    text = text.replace("#", " number ")
    # "$6" is six dollars, an amount, never machine 6 ("can I afford the giant with $6").
    text = _DOLLARS.sub(r" \1 dollars", text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    text = _GLUED.sub(" ", text)
    words: list[str] = []
    for raw in _NOT_WORD.split(text):
        raw = raw.strip("'")
        if not raw:
            continue
        if raw in _CONTRACTIONS:
            words.extend(_CONTRACTIONS[raw].split())
        elif raw.endswith("n't"):
            words.extend((raw[:-3] or "do", "not"))  # "isn't" -> "is not"
        elif "'" in raw:
            head, _, tail = raw.partition("'")
            words.append(head)  # "dryer's" -> "dryer", "i'm" handled above, "we'll" -> "we"
            if tail == "m":
                words.append("am")
        else:
            words.append(raw)
    return words


def words_to_numbers(words: list[str]) -> list[str]:
    """Number words -> digits; homophones and "one" only right after a machine word."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        after_machine = bool(out) and (out[-1] in MACHINE_WORDS or out[-1] in _NUMBER_MARKERS)
        if word in _TENS:
            value = _TENS[word]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt in _UNITS and 0 < _UNITS[nxt] < 10:  # "twenty one"
                value += _UNITS[nxt]
                i += 1
            out.append(str(value))
        elif word in _UNITS and (word not in _ONLY_AFTER_MACHINE or after_machine):
            if word == "oh" and not after_machine:
                out.append(word)
            else:
                out.append(str(_UNITS[word]))
        elif word in _HOMOPHONES and after_machine and _number_fits(words, i):
            out.append(str(_HOMOPHONES[word]))
        else:
            out.append(word)
        i += 1
    return out


def _number_fits(words: list[str], i: int) -> bool:
    nxt = words[i + 1] if i + 1 < len(words) else ""
    return nxt == "" or nxt in _AFTER_NUMBER


def ordinal_machines(words: list[str]) -> list[str]:
    """ "the sixth washer" -> "the washer 6", "6th dryer" -> "dryer 6": before the speller, which
    would make "sixth" sixty; an ordinal not before a machine word ("first time") is kept."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word, n = words[i], _ORDINALS.get(words[i])
        step = 1
        if n is None and word.isdigit() and i + 1 < len(words) and words[i + 1] in _ORDINAL_ENDINGS:
            n, step = int(word), 2
        after = words[i + step] if i + step < len(words) else ""
        kind = after[:-1] if after.endswith("s") else after
        if n is not None and kind in MACHINE_WORDS:
            out += [kind, str(n)]
            i += step + 1
            continue
        out.append(word)
        i += 1
    return out


# Words after a number that make it an amount, not a machine's number.
_AMOUNT_UNITS = word_set(
    "loads load dollars dollar bucks buck cents cent quarters minutes mins minute hours hour "
    "pounds pound lbs lb kilos kg times"
)


def find_machine(words: list[str]) -> tuple[list[str], MachineRef | None]:
    """Find "washer 5", "dryer number 12", "machine no 4", "number 4"; number -> NUM."""
    out = list(words)
    first: MachineRef | None = None
    for i, word in enumerate(words):
        if word not in MACHINE_WORDS and word not in ("number", "num", "nr"):
            continue
        j = i + 1
        if word in MACHINE_WORDS and j < len(words) and words[j] in _NUMBER_MARKERS:
            j += 1  # "dryer number 12"
        after = words[j + 1] if j + 1 < len(words) else ""
        if j < len(words) and words[j].isdigit() and after not in _AMOUNT_UNITS:
            # Not "large washer three loads", "the giant washer 8 dollars": an amount.
            kind = MACHINE_WORDS.get(word)
            ref = MachineRef(kind, int(words[j]))
            out[j] = NUM
            if first is None or first.number is None:
                first = ref
        elif word in MACHINE_WORDS and first is None:
            first = MachineRef(MACHINE_WORDS[word], None)
    return out, first


def stem(word: str) -> str:
    """A tiny suffix stripper: enough to meet "washing"/"wash", "prices"/"price"."""
    if word in _STEM_EXCEPTIONS:
        return _STEM_EXCEPTIONS[word]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
        if len(word) > 2 and word[-1] == word[-2]:  # "stopping" -> "stop"
            word = word[:-1]
    elif len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("ches", "shes", "xes", "sses")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2] if not word.endswith("eed") else word
    return word


def canonical(word: str) -> str:
    stemmed = stem(word)
    return _SYNONYMS.get(stemmed, _SYNONYMS.get(word, stemmed))


_KIND_HINTS = {"wash": "washer", "dry": "dryer"}  # canonical word -> machine kind


def features_of(words: Iterable[str]) -> tuple[str, ...]:
    """Content words (stemmed, canonical) plus neighbouring pairs of them."""
    # NUM is left out: whether a number was said is handled by the engine's rules, and as a
    # feature it outweighed the words that tell "is washer 5 free" from "washer 5 is leaking".
    content = [canonical(w) for w in words if w not in _STOPWORDS and w != NUM]
    content = [w for w in content if w not in _STOPWORDS]
    pairs = [f"{a}_{b}" for a, b in itertools.pairwise(content)]
    return tuple(content + pairs)


# Everyday words one letter from a shop word, never to be "corrected" to it ("carts" is not
# "cards", "than" not "thank", "least" not "last").
_PLAIN_WORDS = word_set("cart carts trolley trolleys than least")


class Normalizer:
    """Runs the whole pipeline; built once per knowledge file (the vocabulary comes from it)."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        known = set()
        for text in vocabulary:
            known.update(split_words(text))
        known.update(MACHINE_WORDS, _UNITS, _TENS, _HOMOPHONES, _STOPWORDS, _NUMBER_MARKERS)
        known.update(SPELLING.values(), _ORDINALS, _SYNONYMS)
        known.update(_PLAIN_WORDS)
        self.speller = Speller(known)

    def __call__(self, text: str) -> Normalized:
        words = ordinal_machines([SPELLING.get(w, w) for w in split_words(text)])
        words = [self.speller.correct(w) for w in words]
        words = words_to_numbers(words)
        words, machine = find_machine(words)
        kinds = frozenset(_KIND_HINTS[canonical(w)] for w in words if canonical(w) in _KIND_HINTS)
        return Normalized(tuple(words), features_of(words), machine, kinds)
