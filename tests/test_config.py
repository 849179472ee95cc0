"""Configuration layers and the errors an owner sees."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest
import yaml

from laundrybot.cli import main
from laundrybot.config import Config, config_path, load_config, parse_listen, runtime_dir
from laundrybot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_no_file_means_built_in_defaults():
    config = load_config(None)
    assert config == Config()
    assert config.gateway.listen == "127.0.0.1:8765"
    assert config.knowledge_path.name == "knowledge.yaml"
    assert config.knowledge_path.is_file()


def test_the_shipped_file_documents_every_setting_with_its_default():
    shipped = yaml.safe_load((ROOT / "conf" / "laundrybot.yaml").read_text())

    def flatten(data: dict, prefix: str = "") -> set[str]:
        out = set()
        for key, value in data.items():
            if isinstance(value, dict) and value:
                out |= flatten(value, prefix + key + ".")
            else:
                out.add(prefix + key)
        return out

    def keys_typed(cls: type, prefix: str = "") -> set[str]:
        hints = typing.get_type_hints(cls)
        out = set()
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            if dataclasses.is_dataclass(hints[f.name]):
                out |= keys_typed(hints[f.name], prefix + f.name + ".")
            else:
                out.add(prefix + f.name)
        return out

    assert flatten(shipped) == keys_typed(Config)
    # Loading it changes nothing but the recorded source.
    loaded = load_config(ROOT / "conf" / "laundrybot.yaml")
    assert dataclasses.replace(loaded, sources=()) == Config()


def test_layers_main_file_then_conf_d_in_name_order(tmp_path):
    main_file = write(
        tmp_path / "laundrybot.yaml", "gateway:\n  listen: 0.0.0.0:9000\nshop_id: a\n"
    )
    write(tmp_path / "conf.d" / "20-late.yaml", "shop_id: c\n")
    write(
        tmp_path / "conf.d" / "10-early.yaml",
        "shop_id: b\ngateway:\n  limits:\n    max_connections: 7\n",
    )
    write(tmp_path / "conf.d" / "ignored.txt", "shop_id: nope\n")
    config = load_config(main_file)
    assert config.shop_id == "c"
    assert config.gateway.listen == "0.0.0.0:9000"
    assert config.gateway.limits.max_connections == 7
    assert config.gateway.limits.max_text_chars == 500  # untouched default
    assert [Path(s).name for s in config.sources] == [
        "laundrybot.yaml",
        "10-early.yaml",
        "20-late.yaml",
    ]


def test_relative_paths_are_relative_to_the_file_that_sets_them(tmp_path):
    main_file = write(tmp_path / "etc" / "laundrybot.yaml", "knowledge: shop.yaml\n")
    write(tmp_path / "etc" / "conf.d" / "spool.yaml", "store:\n  spool: ../var/spool.sqlite\n")
    config = load_config(main_file)
    assert config.knowledge_path == tmp_path / "etc" / "shop.yaml"
    assert config.spool_path == tmp_path / "etc" / "conf.d" / ".." / "var" / "spool.sqlite"


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("gatway:\n  listen: x\n", "gatway", "a known setting"),
        ("gateway:\n  limitz: {}\n", "gateway.limitz", "a known setting"),
        ("gateway:\n  listen: localhost\n", "gateway.listen", '"HOST:PORT"'),
        ("gateway:\n  listen: 'h:70000'\n", "gateway.listen", '"HOST:PORT"'),
        (
            "gateway:\n  limits:\n    max_connections: many\n",
            "gateway.limits.max_connections",
            "a whole number",
        ),
        (
            "gateway:\n  limits:\n    max_connections: 0\n",
            "gateway.limits.max_connections",
            "a value from 1",
        ),
        (
            "gateway:\n  limits:\n    max_connections: true\n",
            "gateway.limits.max_connections",
            "a whole number",
        ),
        (
            "gateway:\n  limits:\n    hello_timeout: -1\n",
            "gateway.limits.hello_timeout",
            "a value from",
        ),
        ("gateway:\n  tokens: abc\n", "gateway.tokens", "a mapping (or a list)"),
        ("gateway:\n  tokens: {front: 1}\n", "gateway.tokens.front", "a text string"),
        ("gateway:\n  tokens: [1]\n", "gateway.tokens[0]", "a text string"),
        ("gateway: 5\n", "gateway", "a mapping"),
        ("log_level: loud\n", "log_level", "one of debug"),
        ("- a\n- b\n", "<top level>", "a mapping of settings"),
        ("gateway: [unclosed\n", "<top level>", "valid YAML"),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path, text, key, expected):
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: expected")
    assert expected in message


def test_an_error_in_conf_d_names_that_file(tmp_path):
    main_file = write(tmp_path / "laundrybot.yaml", "shop_id: a\n")
    bad = write(tmp_path / "conf.d" / "50-mine.yaml", "health:\n  max_rss_mb: 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(main_file)
    assert str(caught.value).startswith(f"{bad}: health.max_rss_mb: expected a value from 16")


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_config_path_order(tmp_path, monkeypatch):
    monkeypatch.setenv("LAUNDRYBOT_CONFIG", str(tmp_path / "env.yaml"))
    assert config_path("cli.yaml") == Path("cli.yaml")
    assert config_path(None) == tmp_path / "env.yaml"
    monkeypatch.delenv("LAUNDRYBOT_CONFIG")
    expected = Path("/etc/laundrybot/laundrybot.yaml")
    assert config_path(None) == (expected if expected.exists() else None)


def test_parse_listen():
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8765") == ("::1", 8765)
    with pytest.raises(ValueError):
        parse_listen(":80")


def test_check_config_command(tmp_path, capsys):
    good = write(tmp_path / "good.yaml", f"knowledge: {ROOT / 'conf' / 'knowledge.yaml'}\n")
    assert main(["check-config", "--config", str(good)]) == 0
    out = capsys.readouterr().out
    assert "ok" in out and "ws://127.0.0.1:8765/kiosk" in out

    bad = write(tmp_path / "bad.yaml", "gateway:\n  listen: nowhere\n")
    assert main(["check-config", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: gateway.listen: expected" in err

    broken_knowledge = write(tmp_path / "k.yaml", "shop: [\n")
    uses_it = write(tmp_path / "uses.yaml", f"knowledge: {broken_knowledge}\n")
    assert main(["check-config", "--config", str(uses_it)]) == 1
    assert str(broken_knowledge) in capsys.readouterr().err


def test_check_config_checks_the_language_files_as_a_reload_does(tmp_path, capsys):
    # A reload reads knowledge.<lang>.yaml too: check-config must refuse what it refuses.
    conf = ROOT / "conf"
    knowledge = write(tmp_path / "knowledge.yaml", (conf / "knowledge.yaml").read_text())
    korean = write(tmp_path / "knowledge.ko.yaml", (conf / "knowledge.ko.yaml").read_text())
    config = str(write(tmp_path / "laundrybot.yaml", f"knowledge: {knowledge}\n"))
    assert main(["check-config", "--config", config]) == 0
    assert f"knowledge (ko): {korean}: ok" in capsys.readouterr().out

    write(korean, korean.read_text().replace("language: ko", "language: ko\ncolour: blue"))
    assert main(["check-config", "--config", config]) == 1
    assert f"{korean}: colour: expected a known key" in capsys.readouterr().err


def test_runtime_and_spool_folders_are_per_config_outside_systemd(tmp_path, monkeypatch):
    for name in ("RUNTIME_DIRECTORY", "STATE_DIRECTORY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    (tmp_path / "a").mkdir()
    first, second = tmp_path / "a" / "laundrybot.yaml", tmp_path / "b.yaml"
    first.write_text("shop_id: a\n")
    second.write_text("shop_id: b\n")
    a, b, defaults = load_config(first), load_config(second), load_config(None)
    folders = {a.runtime_path, b.runtime_path, defaults.runtime_path}
    assert len(folders) == 3 and all(f.parent == tmp_path / "run" / "laundrybot" for f in folders)
    assert defaults.runtime_path.name == "default"
    assert a.asr_socket_path.parent == a.runtime_path != b.asr_socket_path.parent
    assert len({a.spool_path, b.spool_path, defaults.spool_path}) == 3
    assert a.spool_path.parent.parent == tmp_path / "state" / "laundrybot"
    # The CLI finds the folder from the path alone: relative or not, readable or not.
    monkeypatch.chdir(tmp_path)
    assert runtime_dir("a/laundrybot.yaml") == a.runtime_path
    first.write_text("gateway: [broken\n")
    assert runtime_dir(first) == a.runtime_path
    # Under systemd, one laundrybot per PC: nothing changes.
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/laundrybot")
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/laundrybot")
    assert b.runtime_path == Path("/run/laundrybot") == runtime_dir(first)
    assert b.asr_socket_path == Path("/run/laundrybot/asr.sock")
    assert b.spool_path == Path("/var/lib/laundrybot/spool.sqlite")
