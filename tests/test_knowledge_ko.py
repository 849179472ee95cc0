"""Language files: knowledge.ko.yaml holds the Korean texts and inherits the facts (time zone,
hours, prices, machines, staff phone) from knowledge.yaml; a repeated fact must agree, and
every mistake is reported with the language file's own name and the key path."""

from __future__ import annotations

import copy
import pathlib
from decimal import Decimal
from typing import Any

import pytest
import yaml

from laundrybot.dialog.knowledge import load_knowledge, load_knowledge_set
from laundrybot.errors import ConfigError
from tests.test_knowledge import _delete, _set

CONF = pathlib.Path(__file__).resolve().parent.parent / "conf"
MAIN = CONF / "knowledge.yaml"
KOREAN = CONF / "knowledge.ko.yaml"


@pytest.fixture(scope="module")
def ko_data() -> dict[str, Any]:
    return yaml.safe_load(KOREAN.read_text(encoding="utf-8"))


def shop(tmp_path: pathlib.Path, ko: object | None = None, **others: object) -> pathlib.Path:
    """A folder with the sample main file, a Korean file (if given) and other files."""
    main = tmp_path / "knowledge.yaml"
    main.write_text(MAIN.read_text(encoding="utf-8"), encoding="utf-8")
    if ko is not None:
        (tmp_path / "knowledge.ko.yaml").write_text(
            yaml.safe_dump(ko, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    for name, data in others.items():
        (tmp_path / name.replace("_", ".")).write_text(yaml.safe_dump(data), encoding="utf-8")
    return main


def test_sample_set_loads_and_korean_inherits_facts() -> None:
    found = load_knowledge_set(MAIN)
    assert list(found) == ["en", "ko"]
    en, ko = found["en"], found["ko"]
    assert en == load_knowledge(MAIN)  # the main file loads as it always did
    assert ko.language == "ko" and ko.source == str(KOREAN)
    # Facts come from the main file.
    assert ko.timezone == en.timezone
    assert ko.shop_hours == en.shop_hours and ko.staff_hours == en.staff_hours
    assert ko.staff_phone == en.staff_phone
    assert [(s.size, s.price, s.minutes) for s in ko.washers + ko.dryers] == [
        (s.size, s.price, s.minutes) for s in en.washers + en.dryers
    ]
    assert [(m.number, m.kind, m.size) for m in ko.machines] == [
        (m.number, m.kind, m.size) for m in en.machines
    ]
    # Texts are Korean: names, descriptions, locations (only where given), answers.
    assert [s.name for s in ko.washers] == ["일반", "대형", "특대형"]
    assert ko.washers[1].price == Decimal("5.75")
    assert ko.dryers[0].description == "일반 건조기예요"
    assert ko.machines[0].location == "앞쪽 창가에 있어요"
    assert ko.machines[3].location is None  # machine 4: no Korean location, not the English
    assert ko.shop_name == "버블앤서즈 빨래방"
    assert ko.quick_questions[0] == "세탁 한 번에 얼마예요?"
    assert {f.id for f in ko.faq} == {f.id for f in en.faq}
    assert ko.hours_note and ko.staff_phone_note and ko.payment_details


def test_a_main_file_alone_and_unrelated_files(tmp_path: pathlib.Path) -> None:
    main = shop(tmp_path)
    (tmp_path / "knowledge.backup.yaml").write_text("not: read", encoding="utf-8")
    (tmp_path / "other.ko.yaml").write_text("not: read", encoding="utf-8")
    assert list(load_knowledge_set(main)) == ["en"]


def test_repeating_a_fact_that_agrees_is_fine(tmp_path: pathlib.Path, ko_data: dict) -> None:
    data = copy.deepcopy(ko_data)
    data["shop"]["timezone"] = "America/Chicago"
    data["hours"]["shop"] = "24/7"
    data["washers"][0].update(price="$3.50", minutes=30)
    data["staff"]["phone"] = "555-014-2368"
    data["machines"][0].update(kind="washer", size="regular")
    assert load_knowledge_set(shop(tmp_path, data))["ko"].washers[0].price == Decimal("3.50")


# (mutation of the Korean file, key path the error must name)
BAD = {
    "unknown key": (_set("colour", "파랑"), "colour"),
    "price differs": (_set("washers[0].price", 9.99), "washers[0].price"),
    "minutes differ": (_set("dryers[1].minutes", 10), "dryers[1].minutes"),
    "time zone differs": (_set("shop.timezone", "Asia/Seoul"), "shop.timezone"),
    "staff hours differ": (_set("hours.staff", "24/7"), "hours.staff"),
    "bad staff hours": (_set("hours.staff", {"mon": "9-5"}), "hours.staff.tue"),
    "phone differs": (_set("staff.phone", "02-123-4567"), "staff.phone"),
    "a size left out": (_delete("washers[2]"), "washers"),
    "unknown size": (_set("washers[0].size", "huge"), "washers[0].size"),
    "size without a name": (_delete("dryers[0].name"), "dryers[0].name"),
    "size named twice": (_set("washers[1].size", "regular"), "washers[1].size"),
    "machine not in main file": (_set("machines[0].number", 99), "machines[0].number"),
    "machine kind differs": (_set("machines[0].kind", "dryer"), "machines[0].kind"),
    "machine listed twice": (_set("machines[1].number", 1), "machines[1].number"),
    "language differs from file name": (_set("language", "en"), "language"),
    "missing section": (_delete("howto"), "howto"),
    "empty text": (_set("lost_and_found", " "), "lost_and_found"),
    "too few quick questions": (_set("quick_questions", ["얼마예요?"]), "quick_questions"),
    "duplicate faq id": (_set("faq[1].id", "wifi"), "faq[1].id"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_mistake_names_the_language_file_and_key(
    case: str, tmp_path: pathlib.Path, ko_data: dict
) -> None:
    mutate, key = BAD[case]
    data = copy.deepcopy(ko_data)
    mutate(data)
    shop(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_knowledge_set(tmp_path / "knowledge.yaml")
    error = info.value
    ko_file = str(tmp_path / "knowledge.ko.yaml")
    assert (error.file, error.key) == (ko_file, key)
    assert str(error).startswith(f"{ko_file}: {key}: expected ")


def test_a_differing_fact_says_where_the_fact_lives(tmp_path: pathlib.Path, ko_data: dict) -> None:
    data = copy.deepcopy(ko_data)
    data["washers"][0]["price"] = 4
    main = shop(tmp_path, data)
    with pytest.raises(ConfigError, match=rf"the value in {main} \(or leave it out"):
        load_knowledge_set(main)


def test_unsupported_language_file(tmp_path: pathlib.Path, ko_data: dict) -> None:
    main = shop(tmp_path, knowledge_fr_yaml={"language": "fr"})
    with pytest.raises(ConfigError) as info:
        load_knowledge_set(main)
    assert info.value.file == str(tmp_path / "knowledge.fr.yaml")
    assert "supported language (ko)" in str(info.value)


def test_yaml_error_in_the_language_file_names_it(tmp_path: pathlib.Path) -> None:
    main = shop(tmp_path)
    (tmp_path / "knowledge.ko.yaml").write_text("language: ko\nshop: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"knowledge\.ko\.yaml: <top level>: expected valid"):
        load_knowledge_set(main)


def test_an_error_in_the_main_file_names_the_main_file(
    tmp_path: pathlib.Path, ko_data: dict
) -> None:
    main = shop(tmp_path, ko_data)
    main.write_text(MAIN.read_text(encoding="utf-8").replace("price: 3.50", "price: x", 1))
    with pytest.raises(ConfigError) as info:
        load_knowledge_set(main)
    assert (info.value.file, info.value.key) == (str(main), "washers[0].price")


def test_a_korean_main_file_needs_no_english(tmp_path: pathlib.Path) -> None:
    # A shop that only speaks Korean writes one full file with `language: ko`.
    data = yaml.safe_load(MAIN.read_text(encoding="utf-8"))
    data["language"] = "ko"
    data["washers"][0] = {"size": "regular", "name": "일반", "price": 3.5, "minutes": 30}
    path = tmp_path / "knowledge.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = load_knowledge_set(path)
    assert list(found) == ["ko"]
    assert found["ko"].washers[0].description == "일반 세탁기예요"
