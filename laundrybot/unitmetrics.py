"""One scrape target per shop PC: the gateway's /metrics also carries the other units' metrics.

Under systemd each unit is its own process with its own registry. Every process without the
gateway serves its registry on a Unix socket in ``<runtime dir>/metrics/`` (the instance's
runtime folder: per configuration file outside systemd, so instances never mix) (a minimal HTTP/1.0
answer to any request); the gateway reads them all when it is scraped and merges them into
its own exposition, each sample labelled with the unit it came from. A unit that does not
answer is left out and shows as ``laundrybot_unit_scrape_up{unit=...} 0``.

Gateway peers ("gateway@1", "gateway@2") serve their registries on sockets as well, and each
labels its own samples with its unit name: whichever peer a scrape reaches, it answers with the
same series for every peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from laundrybot.config import make_private_folder

log = logging.getLogger(__name__)

SUFFIX = ".sock"
# Seconds the gateway waits for one unit's metrics; a scrape must stay quick.
FETCH_TIMEOUT = 1.0
MAX_BYTES = 4 * 1024 * 1024
# A socket nobody answers on for this long (seconds) is a leftover, not a unit restarting.
STALE = 600.0


def metrics_dir(runtime: Path) -> Path:
    """The metrics sockets' folder in an instance's runtime folder (Config.runtime_path)."""
    return runtime / "metrics"


def socket_path(runtime: Path, unit: str) -> Path:
    return metrics_dir(runtime) / f"{unit}{SUFFIX}"


async def serve(registry: CollectorRegistry, unit: str, runtime: Path) -> asyncio.Server:
    """Serve ``registry`` on this unit's metrics socket (replacing a stale one)."""
    path = socket_path(runtime, unit)
    make_private_folder(path.parent)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError):
                await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), FETCH_TIMEOUT)
            body = generate_latest(registry)
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\n")
            writer.write(body)
            await writer.drain()
        except OSError:
            pass  # the gateway gave up waiting; nothing to do
        finally:
            writer.close()

    server = await asyncio.start_unix_server(answer, path=str(path))
    path.chmod(0o660)
    return server


async def close(server: asyncio.Server, unit: str, runtime: Path) -> None:
    server.close()
    await server.wait_closed()
    with contextlib.suppress(FileNotFoundError):
        socket_path(runtime, unit).unlink()


async def fetch(path: Path) -> str:
    """One unit's exposition text (raises OSError or TimeoutError when it does not answer)."""
    async with asyncio.timeout(FETCH_TIMEOUT):
        reader, writer = await asyncio.open_unix_connection(str(path))
        try:
            writer.write(b"GET /metrics HTTP/1.0\r\n\r\n")
            await writer.drain()
            # read(n) returns what has arrived so far: read on until the unit closes.
            chunks: list[bytes] = []
            size = 0
            while chunk := await reader.read(65536):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise OSError(f"{path}: metrics larger than {MAX_BYTES} bytes")
                chunks.append(chunk)
            data = b"".join(chunks)
        finally:
            writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200"):
        raise OSError(f"unexpected answer from {path}: {head[:40]!r}")
    return body.decode()


async def gather(runtime: Path, own: str = "") -> dict[str, str | None]:
    """Every other unit's metrics text by unit name (None for a unit that did not answer);
    ``own`` is the asking unit's name, whose socket is left out."""
    folder = metrics_dir(runtime)
    paths = sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []
    paths = [p for p in paths if p.name != f"{own}{SUFFIX}"]
    results = await asyncio.gather(*(fetch(p) for p in paths), return_exceptions=True)
    out: dict[str, str | None] = {}
    now = time.time()
    for path, result in zip(paths, results, strict=True):
        unit = path.name.removesuffix(SUFFIX)
        if not isinstance(result, BaseException):
            out[unit] = result
            continue
        log.debug("no metrics from %s: %s", unit, result)
        with contextlib.suppress(OSError):
            if isinstance(result, ConnectionRefusedError) and now - path.stat().st_mtime > STALE:
                path.unlink()  # left by a unit that crashed long ago and never came back
                continue
        out[unit] = None
    return out


def dependencies(text: str) -> list[tuple[str, bool]]:
    """(dependency, ok) from a unit's ``laundrybot_dependency_up`` samples."""
    found = []
    for family in text_string_to_metric_families(text):
        if family.name != "laundrybot_dependency_up":
            continue
        for sample in family.samples:
            found.append((sample.labels.get("dependency", "?"), sample.value >= 1))
    return found


class _Merged(Collector):
    """The gateway's own families plus the units', merged by name, units' samples labelled."""

    def __init__(
        self, local: CollectorRegistry, units: dict[str, str | None], local_unit: str
    ) -> None:
        self.local = local
        self.units = units
        self.local_unit = local_unit

    def collect(self) -> Iterator[Metric]:
        families: dict[tuple[str, str], Metric] = {}
        for family in self.local.collect():
            if self.local_unit:
                family.samples = [_labelled(s, self.local_unit) for s in family.samples]
            families[(family.name, family.type)] = family
        for unit, text in sorted(self.units.items()):
            if text is None:
                continue
            for family in text_string_to_metric_families(text):
                merged = families.setdefault(
                    (family.name, family.type),
                    Metric(family.name, family.documentation, family.type, family.unit),
                )
                merged.samples.extend(_labelled(sample, unit) for sample in family.samples)
        up = GaugeMetricFamily(
            "laundrybot_unit_scrape_up",
            "1 when the unit's metrics could be read for this scrape.",
            labels=["unit"],
        )
        for unit, text in sorted(self.units.items()):
            up.add_metric([unit], 0 if text is None else 1)
        families[(up.name, up.type)] = up
        yield from families.values()


def _labelled(sample: Sample, unit: str) -> Sample:
    if "unit" in sample.labels:
        return sample
    return sample._replace(labels={**sample.labels, "unit": unit})


def merge(local: CollectorRegistry, units: dict[str, str | None], local_unit: str = "") -> bytes:
    """The exposition text of the gateway's registry with the other units' metrics merged in;
    with ``local_unit`` (a gateway peer) its own samples are labelled with it too."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Merged(local, units, local_unit))
    return generate_latest(registry)
