"""The shop's knowledge file (conf/knowledge.yaml) -> validated, frozen dataclasses.

Everything is checked at load time so that answering never meets a surprise: an owner's typo
is reported as ``file: key.path: expected ..., got ...`` (ConfigError) and the file is refused
as a whole. Unknown keys are errors, because a misspelt key would otherwise be silently ignored.

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
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import yaml

from laundrybot import lang
from laundrybot.dialog.hours import ALWAYS, DAYS, Schedule, parse_interval
from laundrybot.errors import ConfigError

# Languages with built-in phrasing: those with a unit in laundrybot/lang/.
SUPPORTED_LANGUAGES = lang.codes()
KINDS = ("washer", "dryer")
HOWTO_TOPICS = ("wash", "dry", "detergent", "payment")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")

T = TypeVar("T")


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
    return _Validator(file).knowledge(data)


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
        validator = _Validator(file)
        if code not in SUPPORTED_LANGUAGES or code == main.language:
            others = [c for c in SUPPORTED_LANGUAGES if c != main.language]
            raise validator.fail(
                "", f"a file name with a supported language ({', '.join(others)})", sibling.name
            )
        found[code] = validator.language_file(data, code, main)
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


# --- validation -----------------------------------------------------------------------------


class _Validator:
    """Walks the parsed YAML, building dataclasses; every error carries the key path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.language = "en"  # set from the file's `language:` before texts are built
        self.main_source = ""  # for a language file: the main file it inherits facts from

    def fail(self, key: str, expected: str, got: object = ...) -> ConfigError:
        return ConfigError(self.file, key, expected, got)

    # Generic shapes.

    def mapping(
        self, value: object, key: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            what = "the file to contain settings (key: value lines)" if not key else "a mapping"
            raise self.fail(key, what, value)
        for name in value:
            if name not in required and name not in optional:
                allowed = ", ".join(required + optional)
                raise self.fail(_join(key, str(name)), f"a known key (one of: {allowed})", name)
        for name in required:
            if name not in value:
                raise self.fail(_join(key, name), "this key to be present")
        return value

    def text(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty text", value)
        return " ".join(value.split())  # one line, single spaces: it is spoken

    def optional_text(self, value: object, key: str) -> str | None:
        return None if value is None else self.text(value, key)

    def items(
        self,
        value: object,
        key: str,
        each: Callable[[object, str], T],
        minimum: int = 1,
        maximum: int = 1000,
    ) -> tuple[T, ...]:
        if not isinstance(value, list):
            raise self.fail(key, "a list (lines starting with '- ')", value)
        if not minimum <= len(value) <= maximum:
            raise self.fail(key, f"between {minimum} and {maximum} entries", len(value))
        return tuple(each(item, f"{key}[{i}]") for i, item in enumerate(value))

    def texts(self, value: object, key: str, minimum: int = 1, maximum: int = 1000) -> tuple:
        return self.items(value, key, self.text, minimum, maximum)

    def integer(self, value: object, key: str, low: int, high: int, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"{what} (a whole number from {low} to {high})", value)
        return value

    def price(self, value: object, key: str) -> Decimal:
        expected = "a price such as 3.50"
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.fail(key, expected, value)
        try:
            amount = Decimal(str(value).strip().lstrip("$"))
        except InvalidOperation:
            raise self.fail(key, expected, value) from None
        if not amount.is_finite() or not 0 <= amount < 1000 or amount != round(amount, 2):
            raise self.fail(key, expected, value)
        return amount.quantize(Decimal("0.01"))

    def ident(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(key, "a short id of lowercase letters, digits and dashes", value)
        return value

    def schedule(self, value: object, key: str, allow_always: bool) -> Schedule:
        if allow_always and isinstance(value, str) and value.strip() == ALWAYS:
            return Schedule(always=True)
        if not isinstance(value, dict):
            expected = '"24/7" or a line per day' if allow_always else "a line per day"
            raise self.fail(key, f'{expected} (mon: "08:00-20:00" ... sun: "closed")', value)
        days = self.mapping(value, key, DAYS)
        intervals = []
        for day in DAYS:
            raw = days[day]
            try:
                if not isinstance(raw, str):
                    raise ValueError
                intervals.append(parse_interval(raw))
            except ValueError:
                raise self.fail(
                    _join(key, day), '"HH:MM-HH:MM" in quotes, or "closed"', raw
                ) from None
        return Schedule(always=False, days=tuple(intervals))

    # The file's sections.

    def knowledge(self, data: object) -> Knowledge:
        top = self.mapping(
            data,
            "",
            (
                "language",
                "shop",
                "hours",
                "washers",
                "dryers",
                "machines",
                "payment",
                "howto",
                "problems",
                "lost_and_found",
                "staff",
                "quick_questions",
            ),
            ("rules", "faq"),
        )
        language = top["language"]
        if language not in SUPPORTED_LANGUAGES:
            raise self.fail("language", f"one of: {', '.join(SUPPORTED_LANGUAGES)}", language)
        self.language = language

        shop = self.mapping(top["shop"], "shop", ("name", "timezone"), ("address",))
        timezone = self.timezone(shop["timezone"], "shop.timezone")

        hours = self.mapping(top["hours"], "hours", ("shop", "staff"), ("note",))
        washers = self.sizes(top["washers"], "washers", "washer")
        dryers = self.sizes(top["dryers"], "dryers", "dryer")
        machines = self.machines(top["machines"], {"washer": washers, "dryer": dryers})

        payment = self.mapping(top["payment"], "payment", ("methods", "problems"), ("details",))
        howto = self.mapping(top["howto"], "howto", HOWTO_TOPICS)
        problems = self.mapping(
            top["problems"], "problems", ("machine_broken", "money_taken_note", "refund")
        )
        staff = self.mapping(top["staff"], "staff", ("phone",), ("phone_note",))
        phone = staff["phone"]
        if isinstance(phone, int) and not isinstance(phone, bool):
            phone = str(phone)  # written without quotes or dashes

        rules = self.items(top.get("rules") or [], "rules", self.rule, minimum=0)
        faq = self.items(top.get("faq") or [], "faq", self.faq_entry, minimum=0)
        self.unique_ids(rules, "rules")
        self.unique_ids(faq, "faq")

        return Knowledge(
            source=self.file,
            language=language,
            shop_name=self.text(shop["name"], "shop.name"),
            address=self.optional_text(shop.get("address"), "shop.address") or "",
            timezone=timezone,
            shop_hours=self.schedule(hours["shop"], "hours.shop", allow_always=True),
            staff_hours=self.schedule(hours["staff"], "hours.staff", allow_always=True),
            hours_note=self.optional_text(hours.get("note"), "hours.note"),
            washers=washers,
            dryers=dryers,
            machines=machines,
            payment_methods=self.texts(payment["methods"], "payment.methods"),
            payment_details=self.optional_text(payment.get("details"), "payment.details"),
            payment_problems=self.text(payment["problems"], "payment.problems"),
            howto=HowTo(*(self.texts(howto[t], f"howto.{t}", maximum=6) for t in HOWTO_TOPICS)),
            machine_broken=self.text(problems["machine_broken"], "problems.machine_broken"),
            money_taken_note=self.text(problems["money_taken_note"], "problems.money_taken_note"),
            refund=self.text(problems["refund"], "problems.refund"),
            lost_and_found=self.text(top["lost_and_found"], "lost_and_found"),
            staff_phone=self.text(phone, "staff.phone"),
            staff_phone_note=self.optional_text(staff.get("phone_note"), "staff.phone_note"),
            rules=rules,
            faq=faq,
            quick_questions=self.texts(top["quick_questions"], "quick_questions", 4, 6),
        )

    def timezone(self, value: object, key: str) -> str:
        expected = "a time zone name such as America/Chicago"
        if not isinstance(value, str):
            raise self.fail(key, expected, value)
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, expected, value) from None
        return value

    def sizes(self, value: object, key: str, kind: str) -> tuple[SizeInfo, ...]:
        def one(item: object, k: str) -> SizeInfo:
            entry = self.mapping(item, k, ("size", "price", "minutes"), ("name", "description"))
            size = self.ident(entry["size"], f"{k}.size")
            name = self.optional_text(entry.get("name"), f"{k}.name") or size
            description = entry.get("description")
            return SizeInfo(
                kind=kind,
                size=size,
                description=self.text(description, f"{k}.description")
                if description is not None
                else _default_description(self.language, name, kind),
                price=self.price(entry["price"], f"{k}.price"),
                minutes=self.integer(entry["minutes"], f"{k}.minutes", 1, 240, "minutes"),
                name=name,
            )

        sizes = self.items(value, key, one)
        seen: set[str] = set()
        for i, size in enumerate(sizes):
            if size.size in seen:
                raise self.fail(f"{key}[{i}].size", "a size name used only once", size.size)
            seen.add(size.size)
        return sizes

    def machines(
        self, value: object, sizes: dict[str, tuple[SizeInfo, ...]]
    ) -> tuple[MachineInfo, ...]:
        def one(item: object, k: str) -> MachineInfo:
            entry = self.mapping(item, k, ("number", "kind", "size"), ("location",))
            kind = entry["kind"]
            if kind not in KINDS:
                raise self.fail(f"{k}.kind", "washer or dryer", kind)
            known = [s.size for s in sizes[kind]]
            if entry["size"] not in known:
                expected = f"a {kind} size listed under {kind}s ({', '.join(known)})"
                raise self.fail(f"{k}.size", expected, entry["size"])
            return MachineInfo(
                number=self.integer(entry["number"], f"{k}.number", 1, 999, "a machine number"),
                kind=kind,
                size=entry["size"],
                location=self.optional_text(entry.get("location"), f"{k}.location"),
            )

        machines = self.items(value, "machines", one)
        seen: set[int] = set()
        for i, machine in enumerate(machines):
            if machine.number in seen:
                raise self.fail(
                    f"machines[{i}].number", "a machine number used only once", machine.number
                )
            seen.add(machine.number)
        return tuple(sorted(machines, key=lambda m: m.number))

    def rule(self, item: object, key: str) -> Rule:
        entry = self.mapping(item, key, ("id", "text"), ("questions",))
        return Rule(
            id=self.ident(entry["id"], f"{key}.id"),
            text=self.text(entry["text"], f"{key}.text"),
            questions=self.texts(entry.get("questions") or [], f"{key}.questions", minimum=0),
        )

    def faq_entry(self, item: object, key: str) -> FaqEntry:
        entry = self.mapping(item, key, ("id", "questions", "answer"))
        return FaqEntry(
            id=self.ident(entry["id"], f"{key}.id"),
            questions=self.texts(entry["questions"], f"{key}.questions"),
            answer=self.text(entry["answer"], f"{key}.answer"),
        )

    def unique_ids(self, entries: tuple[Rule, ...] | tuple[FaqEntry, ...], key: str) -> None:
        seen: set[str] = set()
        for i, entry in enumerate(entries):
            if entry.id in seen:
                raise self.fail(f"{key}[{i}].id", "an id used only once", entry.id)
            seen.add(entry.id)

    # A language file (knowledge.<lang>.yaml): texts, with facts inherited from the main file.

    def language_file(self, data: object, code: str, main: Knowledge) -> Knowledge:
        top = self.mapping(
            data,
            "",
            (
                "language",
                "washers",
                "dryers",
                "payment",
                "howto",
                "problems",
                "lost_and_found",
                "quick_questions",
            ),
            ("shop", "hours", "machines", "staff", "rules", "faq"),
        )
        if top["language"] != code:
            raise self.fail("language", f"{code!r}, as in the file name", top["language"])
        self.language = code
        self.main_source = main.source

        shop = self.mapping(top.get("shop") or {}, "shop", (), ("name", "timezone", "address"))
        self.same(shop, "timezone", "shop.timezone", main.timezone, lambda v, k: v)
        hours = self.mapping(top.get("hours") or {}, "hours", (), ("shop", "staff", "note"))
        for part in ("shop", "staff"):
            self.same(
                hours,
                part,
                f"hours.{part}",
                getattr(main, f"{part}_hours"),
                lambda v, k: self.schedule(v, k, allow_always=True),
            )
        staff = self.mapping(top.get("staff") or {}, "staff", (), ("phone", "phone_note"))
        phone = staff.get("phone")
        if isinstance(phone, int) and not isinstance(phone, bool):
            staff = {**staff, "phone": str(phone)}
        self.same(staff, "phone", "staff.phone", main.staff_phone, self.text)

        payment = self.mapping(top["payment"], "payment", ("methods", "problems"), ("details",))
        howto = self.mapping(top["howto"], "howto", HOWTO_TOPICS)
        problems = self.mapping(
            top["problems"], "problems", ("machine_broken", "money_taken_note", "refund")
        )
        rules = self.items(top.get("rules") or [], "rules", self.rule, minimum=0)
        faq = self.items(top.get("faq") or [], "faq", self.faq_entry, minimum=0)
        self.unique_ids(rules, "rules")
        self.unique_ids(faq, "faq")

        return dataclasses.replace(
            main,
            source=self.file,
            language=code,
            shop_name=self.optional_text(shop.get("name"), "shop.name") or main.shop_name,
            address=self.optional_text(shop.get("address"), "shop.address") or main.address,
            hours_note=self.optional_text(hours.get("note"), "hours.note"),
            washers=self.size_texts(top["washers"], "washers", main.washers),
            dryers=self.size_texts(top["dryers"], "dryers", main.dryers),
            machines=self.machine_texts(top.get("machines") or [], main.machines),
            payment_methods=self.texts(payment["methods"], "payment.methods"),
            payment_details=self.optional_text(payment.get("details"), "payment.details"),
            payment_problems=self.text(payment["problems"], "payment.problems"),
            howto=HowTo(*(self.texts(howto[t], f"howto.{t}", maximum=6) for t in HOWTO_TOPICS)),
            machine_broken=self.text(problems["machine_broken"], "problems.machine_broken"),
            money_taken_note=self.text(problems["money_taken_note"], "problems.money_taken_note"),
            refund=self.text(problems["refund"], "problems.refund"),
            lost_and_found=self.text(top["lost_and_found"], "lost_and_found"),
            staff_phone_note=self.optional_text(staff.get("phone_note"), "staff.phone_note"),
            rules=rules,
            faq=faq,
            quick_questions=self.texts(top["quick_questions"], "quick_questions", 4, 6),
        )

    def same(
        self,
        entry: dict[str, Any],
        name: str,
        key: str,
        inherited: object,
        parse: Callable[[object, str], object],
    ) -> None:
        """A fact repeated in a language file must say what the main file says."""
        if name not in entry:
            return
        if parse(entry[name], key) != inherited:
            expected = f"the value in {self.main_source} (or leave it out: it is inherited)"
            raise self.fail(key, expected, entry[name])

    def size_texts(
        self, value: object, key: str, inherited: tuple[SizeInfo, ...]
    ) -> tuple[SizeInfo, ...]:
        """The main file's sizes with this language's names and descriptions."""
        known = {s.size: s for s in inherited}
        kind = inherited[0].kind
        given: dict[str, SizeInfo] = {}

        def one(item: object, k: str) -> SizeInfo:
            entry = self.mapping(item, k, ("size", "name"), ("description", "price", "minutes"))
            size = entry["size"]
            if size not in known:
                raise self.fail(
                    f"{k}.size", f"a {kind} size from {self.main_source} ({', '.join(known)})", size
                )
            if size in given:
                raise self.fail(f"{k}.size", "a size name used only once", size)
            base = known[size]
            self.same(entry, "price", f"{k}.price", base.price, self.price)
            minutes = lambda v, kk: self.integer(v, kk, 1, 240, "minutes")  # noqa: E731
            self.same(entry, "minutes", f"{k}.minutes", base.minutes, minutes)
            name = self.text(entry["name"], f"{k}.name")
            description = entry.get("description")
            given[size] = dataclasses.replace(
                base,
                name=name,
                description=self.text(description, f"{k}.description")
                if description is not None
                else _default_description(self.language, name, kind),
            )
            return given[size]

        self.items(value, key, one)
        missing = [s for s in known if s not in given]
        if missing:
            raise self.fail(key, f"an entry for every {kind} size (missing: {', '.join(missing)})")
        return tuple(given[s.size] for s in inherited)  # the main file's order

    def machine_texts(
        self, value: object, inherited: tuple[MachineInfo, ...]
    ) -> tuple[MachineInfo, ...]:
        """The main file's machines with this language's locations (none where not given)."""
        known = {m.number: m for m in inherited}
        locations: dict[int, str | None] = {}

        def one(item: object, k: str) -> None:
            entry = self.mapping(item, k, ("number",), ("kind", "size", "location"))
            number = entry["number"]
            if number not in known or isinstance(number, bool):
                numbers = f"{min(known)} to {max(known)}"
                raise self.fail(
                    f"{k}.number", f"a machine number from {self.main_source} ({numbers})", number
                )
            if number in locations:
                raise self.fail(f"{k}.number", "a machine number used only once", number)
            base = known[number]
            self.same(entry, "kind", f"{k}.kind", base.kind, lambda v, kk: v)
            self.same(entry, "size", f"{k}.size", base.size, lambda v, kk: v)
            locations[number] = self.optional_text(entry.get("location"), f"{k}.location")

        self.items(value, "machines", one, minimum=0)
        return tuple(dataclasses.replace(m, location=locations.get(m.number)) for m in inherited)


def _default_description(language: str, name: str, kind: str) -> str:
    """ "large washer"; in Korean a predicate, since answers say "5번 세탁기는 <description>." """
    wording = lang.get(language).wording
    return wording("default_description", size=name, kind=wording.kinds[kind])


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
