"""Staff reports: a problem filed (money taken, a broken machine, a person asked for), its machine
asked for or added later, and the answer as said once the message to the staff has gone.

Honest about what happens: the answer says the report is recorded and gives the staff phone;
the gateway says "I've messaged the staff" instead only once a channel took it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

from laundrybot.dialog.facts import FactAnswers
from laundrybot.dialog.machine_answers import MachineAnswers
from laundrybot.dialog.matching import THRESHOLD
from laundrybot.dialog.memory import Memory
from laundrybot.dialog.normalize import MachineRef, Normalized
from laundrybot.dialog.state import DialogueState, OpenReport
from laundrybot.dialog.turn import Answer, StaffReport, Turn
from laundrybot.dialog.wording import StaffNotice
from laundrybot.machines.state import MachineStatus

__all__ = ["Escalations", "StaffReport"]


class Escalations(MachineAnswers, FactAnswers, Memory):
    def _escalation(self, turn: Turn, before: str, after: str, expression: str) -> Answer:
        # Parts finished one by one: a particle depends only on the sound just before it.
        kind = turn.intent
        phone = self.knowledge.staff_phone
        report = StaffReport(kind, phone, self.say.finish(before), self.say.finish(after))
        text = report.before + self.say.staff_told(kind, phone, None, 0) + report.after
        return self._reply(turn, text, expression=expression, report=report)

    def _call_staff(self, turn: Turn) -> Answer:
        return self._escalation(turn, "", self._staff_now(turn), "concerned")

    def _money_taken(self, turn: Turn) -> Answer:
        k = self.knowledge
        about = self.say("about_machine", name=self._name(turn.machine)) if turn.machine else ""
        # How refunds work is said on request ("how long do refunds take?": refunds).
        before = self.say("money_taken_sorry", about=about, note=k.money_taken_note)
        return self._escalation(turn, before, "", "apologetic")

    def _machine_broken(self, turn: Turn) -> Answer:
        k = self.knowledge
        machine = turn.machine
        if machine is not None:
            which = self._name(machine)
        else:
            which = self.say("the_kind", kind=self._kind(turn.kind or "machine"))
        free = self._free_alternative(turn, machine) if machine else None
        instead = self.say("instead", name=self._name(free)) if free else ""
        broken = k.machine_broken
        if self.language.code == "en":  # it follows "Sorry about washer 5;"
            broken = broken[:1].lower() + broken[1:]
        before = self.say("machine_broken_sorry", which=which, instead=instead, broken=broken)
        return self._escalation(turn, before, "", "concerned")

    def _file(
        self,
        norm: Normalized,
        number: int | None,
        kind: str,
        score: float,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        """File a staff report (an escalation answer); a second one about the same thing in
        the session is not filed again, the machine is added to the open one instead."""
        if number is not None and number not in self.by_number:
            number = None
        if norm.machine is None or norm.machine.number != number:
            kind_said = norm.machine.kind if norm.machine else None
            norm = dataclasses.replace(norm, machine=MachineRef(kind_said, number))
        turn = Turn(
            intent=kind,
            norm=norm,
            machine=self.by_number.get(number) if number is not None else None,
            number=number,
            statuses=machines,
            now=local,
            confidence=round(min(max(score, THRESHOLD), 1.0), 3),
        )
        answer = self.handlers[kind](turn)
        report = OpenReport(kind, number)
        state = self._next_state(st, kind, norm, turn.machine, local, report=report)
        return dataclasses.replace(answer, text=answer.text.strip(), state=state)

    def _report_update(
        self,
        norm: Normalized,
        number: int,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        machine = self.by_number.get(number)
        assert st.report is not None
        if machine is None:
            text = self.say("report_no_machine", number=number)
            return self._made(text, "report-update", None, st, "thinking", 0.8)
        text = self.say("report_machine", name=self._name(machine))
        report = OpenReport(st.report.kind, number)
        state = dataclasses.replace(
            self._next_state(st, "report-update", norm, machine, local), report=report
        )
        return self._made(
            text, "report-update", number, state, "concerned", 0.8, report_update=number
        )

    def _ask_machine(
        self,
        norm: Normalized,
        kind: str,
        *,
        st: DialogueState,
        local: datetime.datetime,
        machines: Mapping[int, MachineStatus],
        low: str,
    ) -> Answer:
        """A problem without its machine: ask which one before filing (the number is what
        staff need), and file when the next turn names it."""
        text = self.say("ask_problem_machine")
        state = self._next_state(st, kind, norm, None, local, pending=("report-machine", kind))
        return self._made(text, "clarify", None, state, "concerned", 0.7, source="knowledge")

    def told(self, answer: Answer, notice: StaffNotice, minutes: int) -> str:
        """``answer`` as said once the staff message's fate is known (others unchanged).

        ``minutes``: how soon staff usually answer (notify.answer_minutes; 0: not said).
        """
        report = answer.report
        if report is None:
            return answer.text
        staff = self.say.staff_told(report.kind, report.phone, notice, minutes)
        return report.before + staff + report.after
