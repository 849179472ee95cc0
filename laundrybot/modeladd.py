"""`laundrybot models add|list|check`: installing a speech model (loaded once in a child
process before it is called installed), and listing and checking the configured ones.

What the models are and where they come from is ``laundrybot.speechmodels``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from laundrybot.config import LANGUAGE, Config
from laundrybot.speechmodels import (
    PIPER,
    POCKETSPHINX,
    VOSK,
    ModelError,
    ModelRef,
    asr_models,
    first_file,
    installed,
    models_dir,
    piper_config_path,
    piper_language,
    piper_problems,
    same_language,
    size_mb,
    tts_voices,
    vosk_problems,
)


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
    code = "from laundrybot.modeladd import _child_load_check; _child_load_check()"
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
    if first_file(folder, "am/final.mdl", "final.mdl"):
        return folder
    subdirs = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if len(subdirs) == 1 and first_file(subdirs[0], "am/final.mdl", "final.mdl"):
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
        if spoken is not None and not same_language(lang, spoken):
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
