"""`laundrybot record-failure UNIT`: a failed unit becomes an event in the spool.

systemd runs it in two places, so that every failure is recorded on Debian 12's systemd 252,
where ``OnFailure=`` fires only when a unit gives up, not when ``Restart=`` restarts it:

- ``ExecStopPost=`` of each long-running unit, after every stop: systemd passes
  ``$SERVICE_RESULT`` (``signal``, ``watchdog``, ``exit-code``, ``core-dump``, ``timeout``...),
  ``$EXIT_CODE``, ``$EXIT_STATUS`` and ``$INVOCATION_ID``. A clean stop (``success``) records
  nothing. These are the crashes and hangs systemd recovered from.
- ``OnFailure=laundrybot-failure@%n.service``, when a unit has failed for good (it hit its
  start limit, or a oneshot such as the cleanup failed): ``$MONITOR_SERVICE_RESULT`` and
  friends say why. The owner has to act on these.

The event (kind ``unit-failure``, detail ``{unit, result, exit_code, exit_status,
invocation_id, via}``) lands in the spool, and the recorder forwards it to PostgreSQL like any
other event. ``via`` tells the two apart: ``ExecStopPost`` is one crash or hang (count these),
``OnFailure`` means the unit gave up and stays down until someone acts (on systemd 252 its
``result`` is that of the last try, e.g. ``exit-code``, and the journal says "Start request
repeated too quickly").
"""

from __future__ import annotations

import os
import re
import sys

from laundrybot.config import Config
from laundrybot.store.spool import Event, SpoolDB

KIND = "unit-failure"
# A unit name as systemd writes it: letters, digits and ":-_.\@", with a type suffix.
UNIT = re.compile(r"[A-Za-z0-9:_.\\@-]{1,256}\.(service|socket|timer|target|mount|path)")
# detail key -> (variable for OnFailure= units, variable for ExecStopPost=)
VARIABLES = {
    "result": ("MONITOR_SERVICE_RESULT", "SERVICE_RESULT"),
    "exit_code": ("MONITOR_EXIT_CODE", "EXIT_CODE"),
    "exit_status": ("MONITOR_EXIT_STATUS", "EXIT_STATUS"),
    "invocation_id": ("MONITOR_INVOCATION_ID", "INVOCATION_ID"),
}


def failure_event(unit: str, environ: dict[str, str] | None = None) -> Event | None:
    """The event for a failure of ``unit``; None when systemd says it stopped cleanly."""
    env = os.environ if environ is None else environ
    if env.get("MONITOR_SERVICE_RESULT"):
        via, index = "OnFailure", 0
    elif env.get("SERVICE_RESULT"):
        via, index = "ExecStopPost", 1
    else:
        via, index = "command", 0
    detail: dict[str, str] = {"unit": unit}
    for key, names in VARIABLES.items():
        value = env.get(names[index], "")
        if value:
            detail[key] = value[:200]
    detail.setdefault("result", "unknown")
    if detail["result"] == "success":
        return None
    detail["via"] = via
    return Event(kind=KIND, detail=detail)


def record_failure(config: Config, unit: str, environ: dict[str, str] | None = None) -> int:
    if not UNIT.fullmatch(unit):
        print(f"laundrybot: {unit!r} is not a systemd unit name", file=sys.stderr)
        return 2
    event = failure_event(unit, environ)
    if event is None:
        return 0  # a clean stop (ExecStopPost= runs after every stop)
    detail = event.detail
    db = SpoolDB(config.spool_path, config.shop_id)
    try:
        db.write([event])
    finally:
        db.close()
    extra = ", ".join(
        f"{k}={v}" for k, v in detail.items() if k in ("exit_code", "exit_status", "via")
    )
    # One line for the journal and for the owner.
    if detail["via"] == "OnFailure":
        print(f"{unit} has failed for good: it stays down until `systemctl reset-failed {unit}`")
    print(
        f"recorded the failure of {unit}: {detail['result']}"
        + (f" ({extra})" if extra else "")
        + f" in {config.spool_path}"
    )
    return 0
