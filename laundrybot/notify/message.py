"""What a notification says: built from spool events, rendered for webhooks and e-mail.

Which events notify: escalations whose reason is in ``notify.escalations`` and their updates
(``escalation-updated``: the machine a customer named after the report, a short follow-up
message of category ``update``, never collapsed into another), and the service
alerts named in ``notify.alerts``: ``unit-failure`` events (systemd OnFailure=), error events
of the recorder with code ``database-unreachable`` (PostgreSQL lost for
``store.postgres.reconnect_timeout``), the notify unit's own ``alert`` events (``disk-low``,
``spool-stuck``), and the daily summary. Each notification carries the UUID of its event as a
duplicate-safe id; repeats of one problem collapsed into it are listed in ``ids``.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from laundrybot.config import NotifyConfig

# Event kinds the notify unit looks at in the spool.
EVENT_KINDS = (
    "escalation",
    "escalation-updated",
    "unit-failure",
    "error",
    "alert",
    "daily-summary",
)

ESCALATION_TITLES = {
    "call-staff": "A customer asks for staff",
    "money-taken": "Money taken",
    "machine-broken": "Machine broken",
}
ALERT_TITLES = {
    "unit-failure": "laundrybot unit failed",
    "database-unreachable": "PostgreSQL unreachable",
    "disk-low": "Disk nearly full",
    "spool-stuck": "Records are not reaching PostgreSQL",
}


@dataclass(frozen=True)
class Notification:
    """One message to the owner; ``id`` is the idempotency key a receiver dedupes by."""

    id: str
    category: str  # escalation | update (of an escalation) | alert | summary | test
    kind: str  # call-staff, money-taken, machine-broken, unit-failure, disk-low, ...
    shop: str
    shop_name: str
    ts: float
    kiosk: str = ""
    machine: int | None = None
    machine_name: str = ""  # "washer 5", from the knowledge file when known
    question: str = ""
    message: str = ""  # for alerts: what went wrong
    detail: Mapping[str, Any] = field(default_factory=dict)
    # Every event this message stands for (itself first) and when the first one happened.
    ids: tuple[str, ...] = ()
    first_ts: float | None = None
    tz: datetime.tzinfo | None = None

    @property
    def count(self) -> int:
        return max(1, len(self.ids))

    @property
    def urgent(self) -> bool:
        return self.category in ("escalation", "update", "alert")

    def local(self, ts: float) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(ts, self.tz or datetime.UTC)

    @property
    def title(self) -> str:
        if self.category == "escalation":
            title = ESCALATION_TITLES.get(self.kind, self.kind)
            if self.machine_name:
                title += f": {self.machine_name}"
            elif self.kiosk and self.kind == "call-staff":
                title += f" at kiosk {self.kiosk}"
            return title
        if self.category == "update":
            title = "Update on a report"
            return f"{title}: {self.machine_name}" if self.machine_name else title
        if self.category == "alert":
            title = ALERT_TITLES.get(self.kind, self.kind)
            unit = self.detail.get("unit")
            if self.kind == "unit-failure" and unit:
                title += f": {unit} ({self.detail.get('result', 'unknown')})"
            return title
        if self.category == "summary":
            return "Daily summary"
        return "Test message"

    @property
    def text(self) -> str:
        """One paragraph a person reads on a phone."""
        at = self.local(self.ts).strftime("%H:%M")
        if self.category == "update":
            where = f" from kiosk {self.kiosk}" if self.kiosk else ""
            what = ESCALATION_TITLES.get(self.kind, self.kind).lower()
            it = f": it is {self.machine_name}" if self.machine_name else ""
            return f"{self.shop_name}: Update on the report{where}{it} ({what}, {at})."
        parts = [f"{self.shop_name}: {self.title}."]
        if self.category == "escalation":
            where = f" at kiosk {self.kiosk}" if self.kiosk else ""
            parts.append(f"{at}{where}")
            if self.question:
                parts[-1] += f', the customer said: "{self.question}"'
            parts[-1] += "."
        elif self.message:
            parts.append(f"{at}: {self.message}")
        if self.count > 1 and self.first_ts is not None:
            since = self.local(self.first_ts).strftime("%H:%M")
            parts.append(f"({self.count} reports since {since}.)")
        return " ".join(parts)

    def body(self) -> dict[str, Any]:
        """The webhook JSON (format "laundrybot"), documented in the README."""
        return {
            "id": self.id,
            "type": self.category,
            "kind": self.kind,
            "shop": self.shop,
            "shop_name": self.shop_name,
            "time": self.local(self.ts).isoformat(timespec="seconds"),
            "ts": self.ts,
            "kiosk": self.kiosk or None,
            "machine": self.machine,
            "question": self.question or None,
            "count": self.count,
            "ids": list(self.ids or (self.id,)),
            "title": self.title,
            # The same text twice: "text" for Slack, Mattermost, Rocket.Chat and the like,
            # "content" for Discord; so the body works as an incoming-webhook message as is.
            "text": self.text,
            "content": self.text,
            "detail": dict(self.detail),
        }

    def email_body(self) -> str:
        lines = [self.text, ""]
        body = self.body()
        for key in ("type", "kind", "time", "kiosk", "machine", "question", "count"):
            if body[key] not in (None, ""):
                lines.append(f"{key}: {body[key]}")
        for key, value in self.detail.items():
            if key not in ("question", "reason", "turn", "message"):
                lines.append(f"{key}: {value}")
        lines += ["", f"notification id: {self.id}"]
        if self.count > 1:
            lines.append("also covers: " + ", ".join(self.ids[1:]))
        return "\n".join(lines) + "\n"


def classify(kind: str, detail: Mapping[str, Any], config: NotifyConfig) -> tuple[str, str] | None:
    """(category, notification kind) when an event of ``kind`` notifies, else None."""
    if kind == "escalation":
        reason = str(detail.get("reason", ""))
        return ("escalation", reason) if reason in config.escalations else None
    if kind == "escalation-updated":
        # Only for a report the staff were told of in the first place.
        reason = str(detail.get("reason", ""))
        return ("update", reason) if reason in config.escalations else None
    if kind == "unit-failure":
        return ("alert", "unit-failure") if "unit-failure" in config.alerts else None
    if kind in ("error", "alert"):
        code = str(detail.get("code", ""))
        return ("alert", code) if code and code in config.alerts else None
    if kind == "daily-summary":
        return ("summary", "daily-summary")
    return None


def group_key(
    category: str, kind: str, machine: int | None, kiosk: str, detail: Mapping[str, Any]
) -> str:
    """Repeats with the same key within notify.repeat_window go out as one message."""
    if category == "escalation":
        # Two customers calling for staff at two kiosks are two messages; one broken machine
        # reported ten times is one.
        who = kiosk if kind == "call-staff" else ""
        return f"escalation:{kind}:{'' if machine is None else machine}:{who}"
    if kind == "unit-failure":
        return f"alert:unit-failure:{detail.get('unit', '')}"
    if category == "alert":
        return f"alert:{kind}"
    return ""  # summaries and tests never collapse


def from_event(
    row: Mapping[str, Any],
    category: str,
    kind: str,
    shop_name: str,
    machine_names: Mapping[int, str],
    tz: datetime.tzinfo | None,
    also: list[tuple[str, float]] | None = None,
) -> Notification:
    """The notification for an event row (plus the repeats collapsed into it)."""
    detail = row["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    machine = row.get("machine")
    ids = (row["id"], *(i for i, _ in also or []))
    first = min([row["ts"], *(t for _, t in also or [])])
    return Notification(
        id=row["id"],
        category=category,
        kind=kind,
        shop=row.get("shop", ""),
        shop_name=shop_name,
        ts=row["ts"],
        kiosk=row.get("kiosk") or "",
        machine=machine,
        machine_name=machine_names.get(machine, f"machine {machine}") if machine else "",
        question=str(detail.get("question", "")) if category == "escalation" else "",
        message=str(detail.get("message", "")),
        detail=detail,
        ids=ids,
        first_ts=first,
        tz=tz,
    )
