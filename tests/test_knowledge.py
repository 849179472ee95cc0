"""The knowledge file loader: the sample loads, and each kind of mistake is reported with the
file and the key path, so a shop owner can find and fix it."""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import yaml

from laundrybot.dialog.hours import Interval
from laundrybot.dialog.knowledge import Knowledge, load_knowledge
from laundrybot.errors import ConfigError

SAMPLE = pathlib.Path(__file__).resolve().parent.parent / "conf" / "knowledge.yaml"


@pytest.fixture(scope="module")
def sample_data() -> dict[str, Any]:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


def write(tmp_path: pathlib.Path, data: object) -> pathlib.Path:
    path = tmp_path / "knowledge.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_sample_file_loads() -> None:
    k = load_knowledge(SAMPLE)
    assert isinstance(k, Knowledge)
    assert k.language == "en"
    assert k.shop_name
    assert k.staff_phone
    assert k.timezone == "America/Chicago"
    assert k.shop_hours.always
    assert k.staff_hours.days[0] == Interval(8 * 60, 20 * 60)
    numbers = [m.number for m in k.machines]
    assert len(numbers) == len(set(numbers)) == 16
    assert {m.kind for m in k.machines} == {"washer", "dryer"}
    # Every machine's size is defined for its kind (the engine relies on it).
    for machine in k.machines:
        assert k.size_info(machine.kind, machine.size).kind == machine.kind
    assert k.washers[0].price == Decimal("3.50")
    assert 4 <= len(k.quick_questions) <= 6
    assert k.faq and k.rules
    assert all(step for step in k.howto.wash)


def test_accepts_path_as_str_and_dataclasses_are_frozen() -> None:
    k = load_knowledge(str(SAMPLE))
    with pytest.raises(AttributeError):
        k.shop_name = "x"  # type: ignore[misc]


def test_scheduled_shop_hours_and_quoted_forms(tmp_path: pathlib.Path, sample_data: dict) -> None:
    data = copy.deepcopy(sample_data)
    data["hours"]["shop"] = {d: "06:00-23:00" for d in data["hours"]["staff"]}
    data["hours"]["shop"]["sun"] = "closed"
    data["hours"]["shop"]["sat"] = "22:00-02:00"  # past midnight
    data["washers"][0]["price"] = "$4.25"
    data["staff"]["phone"] = 5550142368  # written without quotes
    k = load_knowledge(write(tmp_path, data))
    assert not k.shop_hours.always
    assert k.shop_hours.days[6] is None
    assert k.shop_hours.days[5] == Interval(22 * 60, 26 * 60)
    assert k.washers[0].price == Decimal("4.25")
    assert k.staff_phone == "5550142368"


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A mutation that sets a dotted/indexed path, e.g. "washers[1].price"."""

    def apply(data: dict) -> None:
        *parents, last = _parts(path)
        node: Any = data
        for part in parents:
            node = node[part]
        node[last] = value

    return apply


def _delete(path: str) -> Callable[[dict], None]:
    def apply(data: dict) -> None:
        *parents, last = _parts(path)
        node: Any = data
        for part in parents:
            node = node[part]
        del node[last]

    return apply


def _parts(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in path.replace("]", "").split("."):
        name, *indexes = piece.split("[")
        parts.append(name)
        parts.extend(int(i) for i in indexes)
    return parts


# (mutation, key path the error must name)
BAD = {
    "unknown top-level key": (_set("colour", "blue"), "colour"),
    "unknown nested key": (_set("washers[0].colour", "blue"), "washers[0].colour"),
    "unknown machine key": (_set("machines[2].floor", 1), "machines[2].floor"),
    "missing key": (_delete("staff.phone"), "staff.phone"),
    "missing section": (_delete("problems"), "problems"),
    "wrong type: number as text": (_set("machines[0].number", "one"), "machines[0].number"),
    "wrong type: list expected": (_set("payment.methods", "coins"), "payment.methods"),
    "wrong type: mapping expected": (_set("shop", "Bubbles"), "shop"),
    "wrong type: bool as minutes": (_set("washers[0].minutes", True), "washers[0].minutes"),
    "empty text": (_set("lost_and_found", "  "), "lost_and_found"),
    "duplicate machine number": (_set("machines[1].number", 1), "machines[1].number"),
    "bad price text": (_set("washers[1].price", "cheap"), "washers[1].price"),
    "negative price": (_set("dryers[0].price", -1), "dryers[0].price"),
    "price with fractions of a cent": (_set("washers[1].price", 3.555), "washers[1].price"),
    "unknown machine kind": (_set("machines[0].kind", "ironer"), "machines[0].kind"),
    "size not defined for kind": (_set("machines[0].size", "standard"), "machines[0].size"),
    "duplicate size": (_set("washers[1].size", "regular"), "washers[1].size"),
    "bad time zone": (_set("shop.timezone", "Mars/Olympus"), "shop.timezone"),
    "bad hours": (_set("hours.staff.mon", "8-20"), "hours.staff.mon"),
    "hours out of range": (_set("hours.staff.tue", "08:00-25:00"), "hours.staff.tue"),
    "missing day": (_delete("hours.staff.sun"), "hours.staff.sun"),
    "unsupported language": (_set("language", "fr"), "language"),
    "too many quick questions": (_set("quick_questions", ["a?"] * 7), "quick_questions"),
    "duplicate faq id": (_set("faq[1].id", "wifi"), "faq[1].id"),
    "faq without questions": (_set("faq[0].questions", []), "faq[0].questions"),
    "bad rule id": (_set("rules[0].id", "No Dyeing!"), "rules[0].id"),
    "too many how-to steps": (_set("howto.wash", ["Step."] * 7), "howto.wash"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_mistake_names_file_and_key(
    case: str, tmp_path: pathlib.Path, sample_data: dict
) -> None:
    mutate, key = BAD[case]
    data = copy.deepcopy(sample_data)
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    error = info.value
    assert error.file == str(path)
    assert error.key == key
    assert str(error).startswith(f"{path}: {key}: expected ")


def test_bad_price_message_says_what_is_expected(tmp_path: pathlib.Path, sample_data: dict) -> None:
    data = copy.deepcopy(sample_data)
    data["washers"][1]["price"] = "cheap"
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=r"washers\[1\]\.price: expected a price such as 3\.50"):
        load_knowledge(path)


def test_missing_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    assert "not found" in str(info.value)


def test_yaml_syntax_error_names_line_and_column(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "knowledge.yaml"
    path.write_text("language: en\nshop:\n  name: [unclosed\n  timezone: UTC\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    message = str(info.value)
    assert message.startswith(f"{path}: <top level>: expected valid YAML")
    assert "line " in message and "column " in message


def test_duplicate_yaml_key_is_an_error(tmp_path: pathlib.Path) -> None:
    # Plain safe_load keeps the last of two `washers:` blocks silently; we refuse instead.
    text = SAMPLE.read_text(encoding="utf-8") + "\nlanguage: en\n"
    path = tmp_path / "knowledge.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"duplicate key 'language'.*line \d+"):
        load_knowledge(path)


@pytest.mark.parametrize("content", ["", "# only a comment\n", "- a\n- list\n", "just text\n"])
def test_top_level_must_be_a_mapping(tmp_path: pathlib.Path, content: str) -> None:
    path = tmp_path / "knowledge.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_knowledge(path)
    assert info.value.key == "<top level>"
    assert str(path) in str(info.value)
