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
from laundrybot.config import load_config
from laundrybot.runner import Runner

from .test_gateway import http_get


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_the_gateway_merges_the_other_units_metrics(
    write_config, start_gateway, short_runtime
):
    config = write_config()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    recorder = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runtime = load_config(config).runtime_path
    try:
        deadline = time.monotonic() + 30
        while not unitmetrics.socket_path(runtime, "recorder").exists():
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


async def test_a_clean_stop_removes_the_socket(write_config, short_runtime):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
    config = write_config()
    runtime = load_config(config).runtime_path
    recorder = subprocess.Popen(
        [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(config)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not unitmetrics.socket_path(runtime, "recorder").exists():
        assert recorder.poll() is None and time.monotonic() < deadline, "recorder not up"
        await asyncio.sleep(0.1)
    recorder.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(recorder.wait, 20) == 0
    assert not unitmetrics.socket_path(runtime, "recorder").exists()


async def test_a_large_exposition_arrives_whole(tmp_path):
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    gauge = Gauge("laundrybot_test_series", "Many series.", ["n"], registry=registry)
    for n in range(5000):  # a few hundred KB: many socket reads
        gauge.labels(str(n)).set(n)
    runtime = tmp_path / "run" / "one"
    server = await unitmetrics.serve(registry, "big", runtime)
    try:
        units = await unitmetrics.gather(runtime)
    finally:
        await unitmetrics.close(server, "big", runtime)
    text = units["big"]
    assert text is not None and len(text) > 150_000
    assert 'laundrybot_test_series{n="4999"} 4999.0' in text


async def _start_runner(names: list[str], config) -> tuple[Runner, asyncio.Task[int]]:  # type: ignore[no-untyped-def]
    runner = Runner(names, config, load_config(config))
    task = asyncio.create_task(runner.run())
    deadline = time.monotonic() + 20
    while not unitmetrics.socket_path(runner.runtime, "+".join(names)).exists():
        assert not task.done(), f"{names} exited with {task.result()}"
        assert time.monotonic() < deadline, f"{names} did not start"
        await asyncio.sleep(0.02)
    return runner, task


async def test_instances_of_different_configs_never_see_each_others_metrics(
    write_config, start_gateway, short_runtime
):
    # Two laundrybots of one user outside systemd, with different configurations: each
    # gateway merges its own instance's units only (one used to report "asr restarted" for
    # the other).
    first, second = write_config(name="first.yaml"), write_config(name="second.yaml")
    assert load_config(first).runtime_path != load_config(second).runtime_path
    units = [await _start_runner(["recorder"], first), await _start_runner(["notify"], second)]
    try:
        gw_first, gw_second = await start_gateway(first), await start_gateway(second)
        for gw, own, other in ((gw_first, "recorder", "notify"), (gw_second, "notify", "recorder")):
            _, body = await asyncio.to_thread(http_get, gw.http + "/metrics")
            found = samples(body)
            assert found[("laundrybot_unit_scrape_up", (("unit", own),))] == 1
            assert ("laundrybot_unit_scrape_up", (("unit", other),)) not in found
    finally:
        for runner, task in units:
            runner.request_stop()
            assert await asyncio.wait_for(task, 20) == 0


async def test_a_second_instance_of_one_config_is_refused_naming_the_first(
    write_config, short_runtime
):
    config = write_config()
    runner, task = await _start_runner(["recorder"], config)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        second = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "laundrybot", "serve", "recorder", "--config", str(config)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert "laundrybot recorder is already running" in second.stderr
        assert f"pid {os.getpid()}" in second.stderr and str(config) in second.stderr
        # In one process too (flock is per open file), and for the all-in-one, which runs it.
        again = Runner(["recorder"], config, load_config(config))
        assert await again.run() == 1
        all_in_one = Runner(["gateway", "recorder"], config, load_config(config))
        assert await all_in_one.run() == 1
        # Another unit of the same configuration is no second instance.
        other, other_task = await _start_runner(["notify"], config)
        other.request_stop()
        assert await asyncio.wait_for(other_task, 20) == 0
    finally:
        runner.request_stop()
        assert await asyncio.wait_for(task, 20) == 0
    # Once the first has stopped, the lock is free again.
    runner, task = await _start_runner(["recorder"], config)
    runner.request_stop()
    assert await asyncio.wait_for(task, 20) == 0
