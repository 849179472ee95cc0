"""A Debian 12 container with systemd as PID 1, for the system tests (see notes/systemd-nspawn).

- The rootfs is made once with mmdebstrap and cached as a plain folder in
  /var/cache/laundrybot-test/, keyed by a hash of its package list (built into ``ROOT.tmpPID`` and
  renamed, so an existing folder is a complete one).
- It boots with ``--volatile=overlay`` (every write lands on a tmpfs: the cache stays
  pristine), ``--private-network``, ``--register=no --keep-unit`` (no host D-Bus/machined),
  from a cgroup of our own (nspawn leaves /payload and /supervisor cgroups behind otherwise).
- Commands run inside through ``nsenter -t PID1 -a env -i ...`` (systemctl -M and machinectl
  need the host bus, which is not there).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("LAUNDRYBOT_TEST_CACHE", "/var/cache/laundrybot-test"))
# mosquitto (and its clients): the broker laundrybot-machines reads sensors from, in the test.
BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "python3", "procps", "mosquitto",
                 "mosquitto-clients"]  # fmt: skip
CGROUP_ROOTS = [Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified")]
INSIDE_ENV = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]
# Container and cgroup names: this process's pid (another run on the machine has another) and
# a count (several containers, one after the other, in one run).
_SERIAL = itertools.count()


def _unique_name() -> str:
    return f"lbtest{os.getpid()}n{next(_SERIAL)}"


class ContainerError(AssertionError):
    pass


def deb_depends(deb: Path) -> list[str]:
    """Package names in the .deb's Depends and Pre-Depends (first of each alternative)."""
    names = []
    for field_name in ("Pre-Depends", "Depends"):
        value = subprocess.run(
            ["dpkg-deb", "-f", str(deb), field_name], capture_output=True, text=True, check=True
        ).stdout.strip()
        for item in filter(None, (part.strip() for part in value.split(","))):
            name = item.split("|")[0].split("(")[0].split(":")[0].strip()
            if name and name not in names:
                names.append(name)
    return names


def rootfs(packages: list[str], log: list[str]) -> Path:
    """The cached rootfs with these packages, made with mmdebstrap when missing (~1 min)."""
    wanted = sorted(set(BASE_PACKAGES + packages))
    key = hashlib.sha256(("bookworm minbase\n" + "\n".join(wanted)).encode()).hexdigest()[:16]
    root = CACHE / f"rootfs-bookworm-{key}"
    if root.is_dir():
        log.append(f"rootfs: cached {root}")
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    # Another session may be building the same rootfs: each builds in a folder of its own,
    # and the first rename wins.
    tmp = root.with_name(f"{root.name}.tmp{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    start = time.monotonic()
    done = subprocess.run(
        [
            "mmdebstrap", "--quiet", "--variant=minbase", "--include=" + ",".join(wanted),
            "bookworm", str(tmp),
        ],
        capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if done.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ContainerError(f"mmdebstrap failed:\n{done.stderr[-3000:]}")
    try:
        tmp.rename(root)
    except OSError:
        if not root.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # the other session's is as good
    log.append(f"rootfs: built {root} in {time.monotonic() - start:.0f} s ({', '.join(wanted)})")
    return root


@dataclass
class Container:
    root: Path
    binds: dict[str, str] = field(default_factory=dict)  # host folder -> read-only mount point
    name: str = field(default_factory=_unique_name)
    proc: subprocess.Popen[bytes] | None = None
    pid1: int = 0
    log_path: Path | None = None
    cgroups: list[Path] = field(default_factory=list)

    # -- life cycle -----------------------------------------------------------------------

    def start(self, log_path: Path, timeout: float = 60) -> None:
        self.log_path = log_path
        self.cgroups = []
        for base in CGROUP_ROOTS:
            if base.is_dir():
                group = base / f"sysd-it-{self.name}"
                group.mkdir(exist_ok=True)
                self.cgroups.append(group)
        command = [
            "systemd-nspawn", "-q", "-D", str(self.root), "-b", "--register=no", "--keep-unit",
            "--volatile=overlay", "--private-network", "--console=pipe", "-M", self.name,
        ]  # fmt: skip
        for host, inside in self.binds.items():
            command.append(f"--bind-ro={host}:{inside}")
        groups = [str(g / "cgroup.procs") for g in self.cgroups]

        def enter_own_cgroup() -> None:  # in the child, before exec
            for procs in groups:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))

        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_path.open("wb"),
            stderr=subprocess.STDOUT,
            preexec_fn=enter_own_cgroup,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        while not self.pid1:
            if self.proc.poll() is not None:
                raise ContainerError(f"systemd-nspawn exited: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError, ValueError, IndexError):
                self.pid1 = int(children.read_text().split()[0])
            if time.monotonic() > deadline:
                raise ContainerError("the container's PID 1 did not appear")
            time.sleep(0.05)
        while True:
            state = self.run("systemctl is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            if time.monotonic() > deadline:
                raise ContainerError(f"the container did not boot: {state}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn halts the container (~1.5 s)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for group in self.cgroups:
            # nspawn's own sub-cgroups first, deepest first; then ours.
            for sub in sorted(group.rglob("*"), key=lambda p: len(p.parts), reverse=True):
                if sub.is_dir():
                    with contextlib.suppress(OSError):
                        sub.rmdir()
            with contextlib.suppress(OSError):
                group.rmdir()
        self.cgroups = []

    # -- commands inside --------------------------------------------------------------------

    def run(
        self,
        command: str | list[str],
        check: bool = True,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the container (a string goes through /bin/sh -c)."""
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else command
        full = ["nsenter", "-t", str(self.pid1), "-a", "env", "-i", *INSIDE_ENV, *argv]
        done = subprocess.run(
            full,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and done.returncode != 0:
            shown = command if isinstance(command, str) else shlex.join(command)
            raise ContainerError(
                f"`{shown}` exited {done.returncode}\nstdout: {done.stdout[-3000:]}\n"
                f"stderr: {done.stderr[-3000:]}"
            )
        return done

    def popen(self, argv: list[str], **options: object) -> subprocess.Popen[str]:
        """Start a command inside the container without waiting for it (stdout piped)."""
        full = ["nsenter", "-t", str(self.pid1), "-a", "env", "-i", *INSIDE_ENV, *argv]
        return subprocess.Popen(
            full,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **options,
        )

    def show(self, unit: str, prop: str) -> str:
        return self.run(["systemctl", "show", "-P", prop, unit]).stdout.strip()

    def wait_for(
        self, what: str, probe: str | list[str], expect: str, timeout: float = 60, every=0.2
    ) -> float:
        """Poll ``probe`` until its stdout contains ``expect``; returns the seconds it took."""
        start = time.monotonic()
        last = ""
        while time.monotonic() - start < timeout:
            done = self.run(probe, check=False)
            last = done.stdout + done.stderr
            if expect in done.stdout:
                return time.monotonic() - start
            time.sleep(every)
        raise ContainerError(f"{what}: no {expect!r} after {timeout} s; last: {last[-2000:]}")

    def journal(self, unit: str | None = None, since: str | None = None) -> str:
        command = ["journalctl", "--no-pager", "-o", "short-precise"]
        if unit:
            command += ["-u", unit]
        if since:
            command += ["--since", since]
        return self.run(command, check=False).stdout


@contextlib.contextmanager
def booted(root: Path, binds: dict[str, str], log_path: Path) -> Iterator[Container]:
    container = Container(root, binds)
    try:
        container.start(log_path)
        yield container
    finally:
        container.stop()
