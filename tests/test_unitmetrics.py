"""One scrape target per shop PC: the gateway's /metrics carries the other units' metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

from laundrybot import unitmetrics

from .test_gateway import http_get


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_the_gateway_merges_the_other_units_metrics(
    write_config, start_gateway, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    config = write_config()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    recorder = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not unitmetrics.socket_path("recorder").exists():
            assert recorder.poll() is None and time.monotonic() < deadline, "recorder not up"
            await asyncio.sleep(0.1)
        gw = await start_gateway(config)
        code, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
        found = samples(body)
        assert code == 200
        # The recorder's own figures, labelled with their unit, beside the gateway's.
        assert found[("laundrybot_database_up", (("unit", "recorder"),))] == -1
        assert found[("laundrybot_unit_scrape_up", (("unit", "recorder"),))] == 1
        assert found[("laundrybot_process_resident_memory_bytes", (("unit", "recorder"),))] > 0
        assert found[("laundrybot_process_resident_memory_bytes", (("unit", "gateway"),))] > 0
        assert ("laundrybot_ready", ()) in found  # the gateway's own, unlabelled as before

        recorder.send_signal(signal.SIGKILL)
        recorder.wait(10)
        code, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
        found = samples(body)
        # A unit that does not answer is reported, and the scrape still works.
        assert found[("laundrybot_unit_scrape_up", (("unit", "recorder"),))] == 0
        assert ("laundrybot_database_up", (("unit", "recorder"),)) not in found
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()


async def test_a_clean_stop_removes_the_socket(write_config, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    recorder = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(write_config())],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not unitmetrics.socket_path("recorder").exists():
        assert recorder.poll() is None and time.monotonic() < deadline, "recorder not up"
        await asyncio.sleep(0.1)
    recorder.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(recorder.wait, 20) == 0
    assert not unitmetrics.socket_path("recorder").exists()


async def test_a_large_exposition_arrives_whole(tmp_path, monkeypatch):
    from prometheus_client import CollectorRegistry, Gauge

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    registry = CollectorRegistry()
    gauge = Gauge("laundrybot_test_series", "Many series.", ["n"], registry=registry)
    for n in range(5000):  # a few hundred KB: many socket reads
        gauge.labels(str(n)).set(n)
    server = await unitmetrics.serve(registry, "big")
    try:
        units = await unitmetrics.gather()
    finally:
        await unitmetrics.close(server, "big")
    text = units["big"]
    assert text is not None and len(text) > 150_000
    assert 'laundrybot_test_series{n="4999"} 4999.0' in text
