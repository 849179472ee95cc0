"""The shop's knowledge file (conf/knowledge.yaml) -> validated, frozen dataclasses.

Everything is checked at load time so that answering never meets a surprise: an owner's typo
is reported as ``file: key.path: expected ..., got ...`` (ConfigError) and the file is refused
as a whole. Unknown keys are errors, because a misspelt key would otherwise be silently ignored.

How: msgspec Structs mirror the YAML and ``msgspec.convert`` checks keys, types and counts (its
errors are put back into the wording above); a small pass then checks what types can't say:
times, exact prices, unique numbers and ids, sizes that exist, a language file's facts.

More languages: next to the main file, ``knowledge.<lang>.yaml`` (e.g. knowledge.ko.yaml) holds
that language's texts only. Facts (time zone, hours, prices, minutes, machines, staff phone)
come from the main file, so they are written once; a language file may repeat one, but then it
must agree, because a customer must hear the same price in every language.
"""

from __future__ import annotations

import dataclasses
import glob
import pathlib
import re
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal, TypeVar

import msgspec
import msgspec.inspect as mi
import yaml

from laundrybot import lang
from laundrybot.dialog.hours import ALWAYS, DAYS, Schedule, parse_interval
from laundrybot.errors import ConfigError

# Languages with built-in phrasing: those with a unit in laundrybot/lang/.
SUPPORTED_LANGUAGES = lang.codes()
HOWTO_TOPICS = ("wash", "dry", "detergent", "payment")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")

S = TypeVar("S", bound=msgspec.Struct)


@dataclass(frozen=True, slots=True)
class SizeInfo:
    """One machine size: what it costs and how long it runs."""

    kind: str  # "washer" | "dryer"
    size: str  # short name used in the machine list, e.g. "large"
    description: str  # spoken, e.g. "large washer, good for comforters"
    price: Decimal  # per cycle (washers) or per `minutes` of drying (dryers)
    minutes: int
    # The size as said in answers and recognised in questions ("large", "대형"); the loader
    # fills in `size` when the file gives no name.
    name: str = ""


@dataclass(frozen=True, slots=True)
class MachineInfo:
    number: int  # unique across the shop: the number printed on the machine
    kind: str  # "washer" | "dryer"
    size: str  # a SizeInfo.size of the same kind
    location: str | None = None  # spoken, e.g. "by the front window"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    text: str
    questions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FaqEntry:
    id: str
    questions: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class HowTo:
    wash: tuple[str, ...]
    dry: tuple[str, ...]
    detergent: tuple[str, ...]
    payment: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Knowledge:
    source: str  # the file it came from, for messages
    language: str
    shop_name: str
    address: str
    timezone: str  # IANA name, validated
    shop_hours: Schedule
    staff_hours: Schedule
    hours_note: str | None
    washers: tuple[SizeInfo, ...]
    dryers: tuple[SizeInfo, ...]
    machines: tuple[MachineInfo, ...]  # sorted by number, numbers unique
    payment_methods: tuple[str, ...]
    payment_details: str | None
    payment_problems: str
    howto: HowTo
    machine_broken: str
    money_taken_note: str
    refund: str
    lost_and_found: str
    staff_phone: str
    staff_phone_note: str | None
    rules: tuple[Rule, ...]
    faq: tuple[FaqEntry, ...]
    quick_questions: tuple[str, ...]

    def sizes(self, kind: str) -> tuple[SizeInfo, ...]:
        return self.washers if kind == "washer" else self.dryers

    def size_info(self, kind: str, size: str) -> SizeInfo:
        # Validation guarantees every machine's size exists for its kind.
        return next(s for s in self.sizes(kind) if s.size == size)


def load_knowledge(path: str | pathlib.Path) -> Knowledge:
    """Read and validate a knowledge file; raise ConfigError naming file and key on any problem."""
    file, data = _read(path)
    return _main_file(file, data)


def load_knowledge_set(path: str | pathlib.Path) -> dict[str, Knowledge]:
    """The main knowledge file and its language files, by language code, the main one first.

    ``shop.yaml`` has language files ``shop.<lang>.yaml`` beside it (``<lang>`` a code such as
    ``ko``); each is validated against the main file's facts. Any error names its own file.
    """
    main = load_knowledge(path)
    found = {main.language: main}
    main_path = pathlib.Path(path)
    stem, suffix = main_path.stem, main_path.suffix
    for sibling in sorted(main_path.parent.glob(f"{glob.escape(stem)}.*{suffix}")):
        code = sibling.name[len(stem) + 1 : len(sibling.name) - len(suffix)]
        if not _LANGUAGE_CODE.match(code):
            continue  # e.g. knowledge.backup.yaml: not named like a language file
        file, data = _read(sibling)
        if code not in SUPPORTED_LANGUAGES or code == main.language:
            others = [c for c in SUPPORTED_LANGUAGES if c != main.language]
            expected = f"a file name with a supported language ({', '.join(others)})"
            raise ConfigError(file, "", expected, sibling.name)
        found[code] = _language_file(file, data, code, main)
    return found


def _read(path: str | pathlib.Path) -> tuple[str, Any]:
    file = str(path)
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(file, "", "an existing knowledge file (not found)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, "", f"a readable UTF-8 file ({exc})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        raise ConfigError(file, "", f"valid YAML ({_yaml_problem(exc)})") from None
    return file, data


# --- YAML loading ---------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """safe_load, but a key written twice in one mapping is an error instead of last-one-wins."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, str | int) and key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        # Marks are 0-based; editors count from 1.
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return str(problem)


# --- the file's shape -----------------------------------------------------------------------
#
# msgspec Structs mirror the YAML; msgspec checks keys, types and counts. Each leaf type carries
# what an owner is told when it is wrong (Meta extra "expected"), so shape and wording are
# written once and shared by the main file and the language files.


def _says(expected: str, **constraints: Any) -> Any:
    return msgspec.Meta(extra={"expected": expected}, **constraints)


_HOURS_EXPECTED = '"24/7" or a line per day (mon: "08:00-20:00" ... sun: "closed")'
_DAY_EXPECTED = '"HH:MM-HH:MM" in quotes, or "closed"'
_PRICE_EXPECTED = "a price such as 3.50"
_TEXT_EXPECTED = "a non-empty text"

Text = Annotated[str, _says(_TEXT_EXPECTED, pattern=r"\S")]
Texts = Annotated[list[Text], msgspec.Meta(min_length=1, max_length=1000)]
Ident = Annotated[
    str, _says("a short id of lowercase letters, digits and dashes", pattern=_ID.pattern)
]
# Numbers as written (3.5, 4, "$4.25"); the semantic pass makes them exact Decimals.
Price = Annotated[int | float | str, _says(_PRICE_EXPECTED)]
Minutes = Annotated[int, _says("minutes (a whole number from 1 to 240)", ge=1, le=240)]
Number = Annotated[int, _says("a machine number (a whole number from 1 to 999)", ge=1, le=999)]
Kind = Annotated[Literal["washer", "dryer"], _says("washer or dryer")]
# A phone number written without quotes or dashes loads as an int.
Phone = Annotated[int | Text, _says(_TEXT_EXPECTED)]
Timezone = Annotated[str, _says("a time zone name such as America/Chicago")]
Day = Annotated[str, _says(_DAY_EXPECTED)]


class _Shape(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A mapping of the file: unknown keys are errors (a misspelt key would be ignored)."""


class WeekYaml(_Shape):
    mon: Day
    tue: Day
    wed: Day
    thu: Day
    fri: Day
    sat: Day
    sun: Day


Hours = Annotated[str | WeekYaml, _says(_HOURS_EXPECTED)]


class RuleYaml(_Shape):
    id: Ident
    text: Text
    questions: Annotated[list[Text], msgspec.Meta(max_length=1000)] | None = None


class FaqYaml(_Shape):
    id: Ident
    questions: Texts
    answer: Text


class PaymentYaml(_Shape):
    methods: Texts
    problems: Text
    details: Text | None = None


Steps = Annotated[list[Text], msgspec.Meta(min_length=1, max_length=6)]


class HowToYaml(_Shape):
    wash: Steps
    dry: Steps
    detergent: Steps
    payment: Steps


class ProblemsYaml(_Shape):
    machine_broken: Text
    money_taken_note: Text
    refund: Text


class _TextsYaml(_Shape):
    """The sections every knowledge file writes in its own language."""

    language: Annotated[str, _says(f"one of: {', '.join(SUPPORTED_LANGUAGES)}")]
    payment: PaymentYaml
    howto: HowToYaml
    problems: ProblemsYaml
    lost_and_found: Text
    quick_questions: Annotated[list[Text], msgspec.Meta(min_length=4, max_length=6)]
    rules: Annotated[list[RuleYaml], msgspec.Meta(max_length=1000)] | None = None
    faq: Annotated[list[FaqYaml], msgspec.Meta(max_length=1000)] | None = None


class ShopYaml(_Shape):
    name: Text
    timezone: Timezone
    address: Text | None = None


class HoursYaml(_Shape):
    shop: Hours
    staff: Hours
    note: Text | None = None


class SizeYaml(_Shape):
    size: Ident
    price: Price
    minutes: Minutes
    name: Text | None = None
    description: Text | None = None


class MachineYaml(_Shape):
    number: Number
    kind: Kind
    size: Annotated[str, _says("a size listed under washers or dryers")]
    location: Text | None = None


class StaffYaml(_Shape):
    phone: Phone
    phone_note: Text | None = None


# kw_only holds only for the fields of the class that says it, so subclasses repeat it.
class MainFileYaml(_TextsYaml, kw_only=True):
    shop: ShopYaml
    hours: HoursYaml
    washers: Annotated[list[SizeYaml], msgspec.Meta(min_length=1, max_length=1000)]
    dryers: Annotated[list[SizeYaml], msgspec.Meta(min_length=1, max_length=1000)]
    machines: Annotated[list[MachineYaml], msgspec.Meta(min_length=1, max_length=1000)]
    staff: StaffYaml


# A language file: texts, plus facts it may repeat (UNSET: left out, so inherited).


class ShopTextYaml(_Shape):
    name: Text | None = None
    address: Text | None = None
    timezone: Timezone | msgspec.UnsetType = msgspec.UNSET


class HoursTextYaml(_Shape):
    note: Text | None = None
    shop: Hours | msgspec.UnsetType = msgspec.UNSET
    staff: Hours | msgspec.UnsetType = msgspec.UNSET


class SizeTextYaml(_Shape):
    size: Ident
    name: Text
    description: Text | None = None
    price: Price | msgspec.UnsetType = msgspec.UNSET
    minutes: Minutes | msgspec.UnsetType = msgspec.UNSET


class MachineTextYaml(_Shape):
    number: Number
    location: Text | None = None
    kind: Kind | msgspec.UnsetType = msgspec.UNSET
    size: str | msgspec.UnsetType = msgspec.UNSET


class StaffTextYaml(_Shape):
    phone_note: Text | None = None
    phone: Phone | msgspec.UnsetType = msgspec.UNSET


class LanguageFileYaml(_TextsYaml, kw_only=True):
    washers: Annotated[list[SizeTextYaml], msgspec.Meta(min_length=1, max_length=1000)]
    dryers: Annotated[list[SizeTextYaml], msgspec.Meta(min_length=1, max_length=1000)]
    shop: ShopTextYaml | None = None
    hours: HoursTextYaml | None = None
    machines: Annotated[list[MachineTextYaml], msgspec.Meta(max_length=1000)] | None = None
    staff: StaffTextYaml | None = None


# --- msgspec's errors in the owner's words --------------------------------------------------

_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _convert(file: str, data: object, shape: type[S]) -> S:
    try:
        return msgspec.convert(data, shape)
    except msgspec.ValidationError as exc:
        raise _explain(file, data, shape, str(exc)) from None


def _explain(file: str, data: object, shape: type, message: str) -> ConfigError:
    """``Expected `int`, got `str` - at `$.washers[1].minutes``` -> ``washers[1].minutes: ...``.

    The path is walked in the type (for the wording) and in the data (for what was written).
    """
    problem, _, where = message.partition(" - at `")
    where = where.removesuffix("`")
    if where.startswith("key` in `"):  # a mapping key that is not text, e.g. `1: x`
        return ConfigError(file, _key(_steps(where.removeprefix("key` in `"))), "text keys")
    steps = _steps(where)
    node: Any = mi.type_info(shape)
    value: Any = data
    for step in steps:
        node, value = _child(node, step), value[step]
    key = _key(steps)
    if field := _quoted(problem, "Object contains unknown field `"):
        fields = sorted(_struct(node).fields, key=lambda f: not f.required)  # required first
        names = ", ".join(f.encode_name for f in fields)
        return ConfigError(file, _join(key, field), f"a known key (one of: {names})", field)
    if field := _quoted(problem, "Object missing required field `"):
        return ConfigError(file, _join(key, field), "this key to be present")
    expected, got = _expected(node, value, key)
    return ConfigError(file, key, expected, got)


def _steps(where: str) -> list[str | int]:
    return [name or int(index) for name, index in _STEP.findall(where.removeprefix("$"))]


def _key(steps: Sequence[str | int]) -> str:
    key = ""
    for step in steps:
        key = f"{key}[{step}]" if isinstance(step, int) else _join(key, step)
    return key


def _quoted(problem: str, prefix: str) -> str | None:
    return problem.removeprefix(prefix).removesuffix("`") if problem.startswith(prefix) else None


def _arms(node: Any) -> list[Any]:
    """The possible types of a node: Metadata unwrapped, a union split, None left out."""
    if isinstance(node, mi.Metadata):
        return _arms(node.type)
    if isinstance(node, mi.UnionType):
        return [arm for t in node.types for arm in _arms(t)]
    return [] if isinstance(node, mi.NoneType) else [node]


def _child(node: Any, step: str | int) -> Any:
    for arm in _arms(node):
        if isinstance(step, int) and isinstance(arm, mi.ListType):
            return arm.item_type
        if isinstance(step, str) and isinstance(arm, mi.StructType):
            return next(f.type for f in arm.fields if f.encode_name == step)
    raise LookupError(step)  # msgspec only reports paths its type has


def _struct(node: Any) -> mi.StructType:
    return next(arm for arm in _arms(node) if isinstance(arm, mi.StructType))


def _expected(node: Any, value: object, key: str) -> tuple[str, object]:
    """What the type at ``key`` asks for, and what to quote of the value found there."""
    while True:
        if isinstance(node, mi.Metadata):
            if node.extra and "expected" in node.extra:
                return node.extra["expected"], value
            node = node.type
        elif isinstance(node, mi.UnionType) and len(_arms(node)) == 1:
            node = next(t for t in node.types if not isinstance(t, mi.NoneType))
        else:
            break
    if isinstance(node, mi.ListType):
        if isinstance(value, list):
            low, high = node.min_length or 0, node.max_length
            return f"between {low} and {high} entries", len(value)
        return "a list (lines starting with '- ')", value
    if not key:
        return "the file to contain settings (key: value lines)", value
    return "a mapping", value


# --- what types can't say -------------------------------------------------------------------


def _main_file(file: str, data: object) -> Knowledge:
    doc = _convert(file, data, MainFileYaml)
    if doc.language not in SUPPORTED_LANGUAGES:
        expected = f"one of: {', '.join(SUPPORTED_LANGUAGES)}"
        raise ConfigError(file, "language", expected, doc.language)
    check = _Check(file, doc.language)
    washers = check.sizes(doc.washers, "washers", "washer")
    dryers = check.sizes(doc.dryers, "dryers", "dryer")
    return Knowledge(
        source=file,
        language=doc.language,
        shop_name=_line(doc.shop.name),
        address=_optional(doc.shop.address) or "",
        timezone=check.timezone(doc.shop.timezone, "shop.timezone"),
        shop_hours=check.schedule(doc.hours.shop, "hours.shop"),
        staff_hours=check.schedule(doc.hours.staff, "hours.staff"),
        hours_note=_optional(doc.hours.note),
        washers=washers,
        dryers=dryers,
        machines=check.machines(doc.machines, {"washer": washers, "dryer": dryers}),
        staff_phone=_phone(doc.staff.phone),
        staff_phone_note=_optional(doc.staff.phone_note),
        **check.texts(doc),
    )


def _language_file(file: str, data: object, code: str, main: Knowledge) -> Knowledge:
    doc = _convert(file, data, LanguageFileYaml)
    if doc.language != code:
        raise ConfigError(file, "language", f"{code!r}, as in the file name", doc.language)
    check = _Check(file, code, main.source)
    shop = doc.shop or ShopTextYaml()
    hours = doc.hours or HoursTextYaml()
    staff = doc.staff or StaffTextYaml()
    check.same(shop.timezone, "shop.timezone", main.timezone)
    check.same(hours.shop, "hours.shop", main.shop_hours, check.schedule)
    check.same(hours.staff, "hours.staff", main.staff_hours, check.schedule)
    check.same(staff.phone, "staff.phone", main.staff_phone, lambda v, k: _phone(v))
    return dataclasses.replace(
        main,
        source=file,
        language=code,
        shop_name=_optional(shop.name) or main.shop_name,
        address=_optional(shop.address) or main.address,
        hours_note=_optional(hours.note),
        washers=check.size_texts(doc.washers, "washers", main.washers),
        dryers=check.size_texts(doc.dryers, "dryers", main.dryers),
        machines=check.machine_texts(doc.machines or [], main.machines),
        staff_phone_note=_optional(staff.phone_note),
        **check.texts(doc),
    )


def _line(text: str) -> str:
    return " ".join(text.split())  # one line, single spaces: it is spoken


def _lines(texts: Sequence[str]) -> tuple[str, ...]:
    return tuple(_line(t) for t in texts)


def _optional(text: str | None) -> str | None:
    return None if text is None else _line(text)


def _phone(value: int | str) -> str:
    return _line(str(value))


class _Check:
    """The semantic pass over a converted file; every error carries the key path."""

    def __init__(self, file: str, language: str, main_source: str = "") -> None:
        self.file = file
        self.language = language
        self.main_source = main_source  # for a language file: the main file it inherits from

    def fail(self, key: str, expected: str, got: object = ...) -> ConfigError:
        return ConfigError(self.file, key, expected, got)

    def price(self, value: object, key: str) -> Decimal:
        try:
            amount = Decimal(str(value).strip().lstrip("$"))
        except InvalidOperation:
            raise self.fail(key, _PRICE_EXPECTED, value) from None
        if not amount.is_finite() or not 0 <= amount < 1000 or amount != round(amount, 2):
            raise self.fail(key, _PRICE_EXPECTED, value)
        return amount.quantize(Decimal("0.01"))

    def timezone(self, value: str, key: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, "a time zone name such as America/Chicago", value) from None
        return value

    def schedule(self, value: str | WeekYaml, key: str) -> Schedule:
        if isinstance(value, str):
            if value.strip() == ALWAYS:
                return Schedule(always=True)
            raise self.fail(key, _HOURS_EXPECTED, value)
        intervals = []
        for day in DAYS:
            raw = getattr(value, day)
            try:
                intervals.append(parse_interval(raw))
            except ValueError:
                raise self.fail(_join(key, day), _DAY_EXPECTED, raw) from None
        return Schedule(always=False, days=tuple(intervals))

    def description(self, given: str | None, name: str, kind: str) -> str:
        return (
            _line(given) if given is not None else _default_description(self.language, name, kind)
        )

    def texts(self, doc: _TextsYaml) -> dict[str, Any]:
        """The Knowledge fields both kinds of file write the same way."""
        rules = tuple(Rule(r.id, _line(r.text), _lines(r.questions or [])) for r in doc.rules or [])
        faq = tuple(FaqEntry(f.id, _lines(f.questions), _line(f.answer)) for f in doc.faq or [])
        self.unique([r.id for r in rules], "rules", "id", "an id used only once")
        self.unique([f.id for f in faq], "faq", "id", "an id used only once")
        howto = doc.howto
        return {
            "payment_methods": _lines(doc.payment.methods),
            "payment_details": _optional(doc.payment.details),
            "payment_problems": _line(doc.payment.problems),
            "howto": HowTo(*(_lines(getattr(howto, topic)) for topic in HOWTO_TOPICS)),
            "machine_broken": _line(doc.problems.machine_broken),
            "money_taken_note": _line(doc.problems.money_taken_note),
            "refund": _line(doc.problems.refund),
            "lost_and_found": _line(doc.lost_and_found),
            "rules": rules,
            "faq": faq,
            "quick_questions": _lines(doc.quick_questions),
        }

    def unique(self, values: Sequence[object], key: str, name: str, expected: str) -> None:
        seen: set[object] = set()
        for i, value in enumerate(values):
            if value in seen:
                raise self.fail(f"{key}[{i}].{name}", expected, value)
            seen.add(value)

    def sizes(self, entries: list[SizeYaml], key: str, kind: str) -> tuple[SizeInfo, ...]:
        self.unique([e.size for e in entries], key, "size", "a size name used only once")
        sizes = []
        for i, entry in enumerate(entries):
            name = _optional(entry.name) or entry.size
            sizes.append(
                SizeInfo(
                    kind=kind,
                    size=entry.size,
                    description=self.description(entry.description, name, kind),
                    price=self.price(entry.price, f"{key}[{i}].price"),
                    minutes=entry.minutes,
                    name=name,
                )
            )
        return tuple(sizes)

    def machines(
        self, entries: list[MachineYaml], sizes: dict[str, tuple[SizeInfo, ...]]
    ) -> tuple[MachineInfo, ...]:
        for i, entry in enumerate(entries):
            known = [s.size for s in sizes[entry.kind]]
            if entry.size not in known:
                expected = f"a {entry.kind} size listed under {entry.kind}s ({', '.join(known)})"
                raise self.fail(f"machines[{i}].size", expected, entry.size)
        numbers = [e.number for e in entries]
        self.unique(numbers, "machines", "number", "a machine number used only once")
        machines = (MachineInfo(e.number, e.kind, e.size, _optional(e.location)) for e in entries)
        return tuple(sorted(machines, key=lambda m: m.number))

    # A language file: its facts must say what the main file says.

    def same(
        self,
        value: Any,
        key: str,
        inherited: object,
        parse: Callable[[Any, str], object] = lambda v, k: v,
    ) -> None:
        """A fact repeated in a language file must say what the main file says."""
        if value is msgspec.UNSET:
            return
        if parse(value, key) != inherited:
            expected = f"the value in {self.main_source} (or leave it out: it is inherited)"
            raise self.fail(key, expected, value)

    def size_texts(
        self, entries: list[SizeTextYaml], key: str, inherited: tuple[SizeInfo, ...]
    ) -> tuple[SizeInfo, ...]:
        """The main file's sizes with this language's names and descriptions."""
        known = {s.size: s for s in inherited}
        kind = inherited[0].kind
        given: dict[str, SizeInfo] = {}
        for i, entry in enumerate(entries):
            k = f"{key}[{i}]"
            if entry.size not in known:
                expected = f"a {kind} size from {self.main_source} ({', '.join(known)})"
                raise self.fail(f"{k}.size", expected, entry.size)
            if entry.size in given:
                raise self.fail(f"{k}.size", "a size name used only once", entry.size)
            base = known[entry.size]
            self.same(entry.price, f"{k}.price", base.price, self.price)
            self.same(entry.minutes, f"{k}.minutes", base.minutes)
            name = _line(entry.name)
            description = self.description(entry.description, name, kind)
            given[entry.size] = dataclasses.replace(base, name=name, description=description)
        missing = [s for s in known if s not in given]
        if missing:
            raise self.fail(key, f"an entry for every {kind} size (missing: {', '.join(missing)})")
        return tuple(given[s.size] for s in inherited)  # the main file's order

    def machine_texts(
        self, entries: list[MachineTextYaml], inherited: tuple[MachineInfo, ...]
    ) -> tuple[MachineInfo, ...]:
        """The main file's machines with this language's locations (none where not given)."""
        known = {m.number: m for m in inherited}
        locations: dict[int, str | None] = {}
        for i, entry in enumerate(entries):
            k = f"machines[{i}]"
            if entry.number not in known:
                numbers = f"{min(known)} to {max(known)}"
                expected = f"a machine number from {self.main_source} ({numbers})"
                raise self.fail(f"{k}.number", expected, entry.number)
            if entry.number in locations:
                raise self.fail(f"{k}.number", "a machine number used only once", entry.number)
            base = known[entry.number]
            self.same(entry.kind, f"{k}.kind", base.kind)
            self.same(entry.size, f"{k}.size", base.size)
            locations[entry.number] = _optional(entry.location)
        return tuple(dataclasses.replace(m, location=locations.get(m.number)) for m in inherited)


def _default_description(language: str, name: str, kind: str) -> str:
    """ "large washer"; in Korean a predicate, since answers say "5번 세탁기는 <description>." """
    wording = lang.get(language).wording
    return wording("default_description", size=name, kind=wording.kinds[kind])


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
