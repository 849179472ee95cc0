"""Answers about the machines: one machine's status, the free machines, another machine to use
instead of a busy or broken one, and a machine's own facts (its size, what it holds, where)."""

from __future__ import annotations

import math

from laundrybot.dialog.knowledge import MachineInfo, SizeInfo
from laundrybot.dialog.turn import (
    ENTITY_FEATURES,
    TIME_WORDS,
    Answer,
    Base,
    Turn,
    cap,
    machine_state,
    place_named,
)
from laundrybot.machines.state import MachineState, MachineStatus


class MachineAnswers(Base):
    def _machine_status(self, turn: Turn) -> Answer:
        say = self.say
        if turn.number is None:
            if TIME_WORDS.intersection(turn.norm.words):
                return self._reply(turn, say("which_machine"), expression="thinking")
            return self._free_machines(turn)
        machine = turn.machine
        if machine is None:
            return self._no_such_machine(turn, turn.number)
        said = turn.norm.machine.kind if turn.norm.machine else None
        prefix = ""
        if said is not None and said != machine.kind:
            # Often a mis-heard number ("dryer two"); say what number N is, then how to ask.
            prefix = say(
                "wrong_kind",
                number=machine.number,
                kind=self._kind(machine.kind),
                said=self._kind(said),
                saids=say.plural(self._kind(said), 2),
                ranges=say.number_ranges(self._numbers(said)),
            )
        name = cap(self._name(machine))
        status = turn.statuses.get(machine.number)
        if status is None or status.state is MachineState.UNKNOWN:  # a silent sensor
            text = say("no_status", name=self._name(machine))
            return self._reply(turn, prefix + text, source="machines", expression="thinking")
        if status.state is MachineState.FREE:
            text = say("is_free", name=name, where=self._where(machine))
            return self._reply(turn, prefix + text, source="machines", expression="happy")
        if status.state is MachineState.OUT_OF_ORDER:
            text = say("out_of_order", name=self._name(machine)) + self._alternative(turn, machine)
            return self._reply(turn, prefix + text, source="machines", expression="apologetic")
        left = self._minutes_left(status, turn)
        if left is None:
            text = say("busy", name=name)
        elif left <= 0:
            text = say("busy_finishing", name=name)
        else:
            text = say("busy_left", name=name, minutes=say.minutes(left))
        if (left is None or left > 3) and not prefix:  # keep a corrected answer short
            text += " " + self._alternative(turn, machine)
        return self._reply(turn, prefix + text, source="machines")

    def _only_free(self, turn: Turn) -> MachineInfo | None:
        """The one free machine a free-machines answer names, if it names one: what "how much
        is it" or "the other one" after it is about."""
        kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
        free = [
            m
            for m in self.knowledge.machines
            if m.kind in kinds and machine_state(turn, m) is MachineState.FREE
        ]
        return free[0] if len(free) == 1 else None

    def _numbers(self, kind: str) -> list[int]:
        return [m.number for m in self.knowledge.machines if m.kind == kind]

    def _no_such_machine(self, turn: Turn, number: int) -> Answer:
        say = self.say
        ranges = say("kinds_joiner").join(
            say(
                "kind_ranges",
                kinds=say.plural(self._kind(kind), 2),
                ranges=say.number_ranges(self._numbers(kind)),
            )
            for kind in ("washer", "dryer")
            if self._numbers(kind)
        )
        text = say("no_such_machine", number=number, ranges=ranges)
        return self._reply(turn, cap(text), source="machines", expression="thinking")

    def _free_machines(self, turn: Turn) -> Answer:
        say = self.say
        group = self._of_sizes_named(turn)
        if self.cues.asks_soonest.search(turn.low) and self.cues.asks_ending.search(turn.low):
            # "which one finishes first": the running one ending soonest, of the size or kind
            # talked about, whatever is free.
            kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
            mine = group or [m for m in self.knowledge.machines if m.kind in kinds]
            soonest = self._soonest(turn, mine)
            if soonest:
                return self._reply(
                    turn, cap(soonest) + ".", source="machines", intent="free-machines"
                )
        if group:
            return self._board(turn, group)
        kinds = [turn.kind] if turn.kind else ["washer", "dryer"]
        free_parts, none_free, unknown = [], [], 0
        for kind in kinds:
            group = [m for m in self.knowledge.machines if m.kind == kind]
            free = [m.number for m in group if machine_state(turn, m) is MachineState.FREE]
            unknown += sum(1 for m in group if m.number not in turn.statuses)
            if free:
                label = say.plural(self._kind(kind), len(free))
                free_parts.append(say("free_item", kinds=label, numbers=say.number_list(free)))
            elif any(m.number in turn.statuses for m in group):
                none_free.append((kind, group))
        total = sum(1 for m in self.knowledge.machines if m.kind in kinds)
        if unknown == total:
            return self._reply(
                turn,
                say("no_status_all"),
                source="machines",
                expression="thinking",
                intent="free-machines",
            )
        parts = []
        if free_parts:
            parts.append(say("free_now", items=say.join_and(free_parts)))
        for kind, group in none_free:
            soonest = self._soonest(turn, group)
            label = say.plural(self._kind(kind), 2)
            if soonest:
                parts.append(say("none_free_soonest", kinds=label, soonest=soonest))
            else:
                parts.append(say("none_free", kinds=label))
        return self._board_reply(turn, parts, unknown, happy=bool(free_parts))

    def _of_sizes_named(self, turn: Turn) -> list[MachineInfo]:
        """The machines of the sizes a question names ("are the large washers free"), of its
        kind if it names one; none when it names no size."""
        named = {
            (s.kind, s.size)
            for w in turn.norm.words
            for s in self.sizes_by_word.get(w, [])
            if turn.kind is None or s.kind == turn.kind
        }
        group = [m for m in self.knowledge.machines if (m.kind, m.size) in named]
        # "are the washers by the window free": those of the place named, of those sizes.
        placed = [m for m in group if m.location and place_named(m.location, turn.low)]
        return placed or group

    def _board(self, turn: Turn, group: list[MachineInfo]) -> Answer:
        """Whether machines of the size asked about are free ("is either giant washer free"):
        the free ones; each other one's state when the size has two machines or fewer (so
        "both" is answered for both), else the one ending soonest if none is free."""
        say = self.say
        free = [m for m in group if machine_state(turn, m) is MachineState.FREE]
        unknown = sum(1 for m in group if machine_state(turn, m) in (None, MachineState.UNKNOWN))
        if unknown == len(group):
            return self._reply(
                turn, say("no_status_all"), source="machines", intent="free-machines"
            )
        parts = []
        if free:
            label = say.plural(self._kind(free[0].kind), len(free))
            items = say("free_item", kinds=label, numbers=say.number_list([m.number for m in free]))
            parts.append(say("free_now", items=items))
        others = [m for m in group if m not in free]
        if len(group) <= 2:
            for m in others:
                status = turn.statuses.get(m.number)
                if status is None or status.state is MachineState.UNKNOWN:
                    continue
                name = cap(self._name(m))
                if status.state is MachineState.OUT_OF_ORDER:
                    parts.append(say("board_out_of_order", name=name))
                    continue
                left = self._minutes_left(status, turn)
                if left is None:
                    parts.append(say("busy", name=name))
                elif left <= 0:
                    parts.append(say("busy_finishing", name=name))
                else:
                    parts.append(say("busy_left", name=name, minutes=say.minutes(left)))
        elif not free:
            label = say.plural(self._kind(group[0].kind), 2)
            soonest = self._soonest(turn, group)
            key = "none_free_soonest" if soonest else "none_free"
            parts.append(say(key, kinds=label, soonest=soonest))
        return self._board_reply(turn, parts, unknown, happy=bool(free))

    def _minutes_left(self, status: MachineStatus, turn: Turn) -> int | None:
        if status.until is None:
            return None
        return math.ceil((status.until - turn.now.timestamp()) / 60)

    def _alternative(self, turn: Turn, machine: MachineInfo) -> str:
        """Point to another free machine of the same kind (same size preferred)."""
        others = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind and m.number != machine.number
        ]
        pick = self._free_alternative(turn, machine)
        if pick is not None:
            same = self.say("alt_same") if pick.size == machine.size else ""
            name = cap(self._name(pick))
            return self.say("alt_free", name=name, same=same, where=self._where(pick))
        soonest = self._soonest(turn, others)
        kind = self._kind(machine.kind)
        if soonest:
            kinds = self.say.plural(kind, 2)
            return self.say("alt_none_free", kinds=kinds, soonest=soonest)
        return self.say("alt_unknown", kind=kind)

    def _free_alternative(self, turn: Turn, machine: MachineInfo) -> MachineInfo | None:
        """A free machine of the same kind, the same size if possible, lowest number first."""
        free = [
            m
            for m in self.knowledge.machines
            if m.kind == machine.kind
            and m.number != machine.number
            and machine_state(turn, m) is MachineState.FREE
        ]
        return min(free, key=lambda m: (m.size != machine.size, m.number), default=None)

    def _soonest(self, turn: Turn, machines: list[MachineInfo]) -> str | None:
        """ "dryer 12 should be done in about 3 minutes" for the busy machine ending first."""
        best: tuple[int, MachineInfo] | None = None
        for m in machines:
            status = turn.statuses.get(m.number)
            if status is None or status.state is not MachineState.BUSY:
                continue
            left = self._minutes_left(status, turn)
            if left is not None and (best is None or left < best[0]):
                best = (left, m)
        if best is None:
            return None
        left, m = best
        if left <= 0:
            return self.say("soonest_now", name=self._name(m))
        return self.say("soonest", name=self._name(m), minutes=self.say.minutes(left))

    def _board_reply(self, turn: Turn, parts: list[str], unknown: int, *, happy: bool) -> Answer:
        """A free-machines answer: its sentences, then how many machines have no known state."""
        if unknown:
            machines = self.say.plural(self._kind("machine"), unknown)
            parts.append(self.say("unknown_some", count=unknown, machines=machines))
        expression = "happy" if happy else "apologetic"
        return self._reply(
            turn, " ".join(parts), source="machines", expression=expression, intent="free-machines"
        )

    def _machine_info(self, turn: Turn) -> Answer:
        """A machine's own facts: its size, what it holds and where it is; with no machine
        named, the machines of the size asked about, or of the size whose description fits the
        question ("which washer for a comforter", "I have four loads")."""
        say = self.say
        if turn.number is not None and turn.machine is None:
            return self._no_such_machine(turn, turn.number)
        if turn.machine is not None:
            m = turn.machine
            size = self.knowledge.size_info(m.kind, m.size)
            name = cap(self._name(m))
            text = say(
                "machine_info", name=name, description=size.description, where=self._where(m)
            )
            return self._reply(turn, self._loads_unknown(turn, [size], text))
        parts = []
        kind = turn.kind
        named = any(w in self.sizes_by_word for w in turn.norm.words)
        if kind is not None and not named and turn.counted:
            # "how many dryers are there in total": how many, then which.
            count = sum(m.kind == kind for m in self.knowledge.machines)
            parts.append(
                say("machine_count", count=count, kinds=say.plural(self._kind(kind), count))
            )
        # "which washers are the ones by the window": the machines of the place named only.
        placed = [
            m for m in self.knowledge.machines if m.location and place_named(m.location, turn.low)
        ]
        fitting = self._sizes_fitting(turn)
        if not any((m.kind, m.size) == (s.kind, s.size) for m in placed for s in fitting):
            placed = []  # the place holds none of the sizes asked about
        for size in fitting:
            group = [
                m
                for m in placed or self.knowledge.machines
                if m.kind == size.kind and m.size == size.size
            ]
            if not group:
                continue
            where = self._where(group[0]) if len({m.location for m in group}) == 1 else ""
            kinds = say.plural(self._kind(size.kind), len(group))
            numbers = say.number_list([m.number for m in group])
            parts.append(
                cap(
                    say(
                        "size_machines",
                        kinds=kinds,
                        numbers=numbers,
                        where=where,
                        description=size.description,
                    )
                )
            )
        return self._reply(turn, self._loads_unknown(turn, fitting, " ".join(parts)))

    def _loads_unknown(self, turn: Turn, sizes: list[SizeInfo], text: str) -> str:
        """The answer to how many loads a machine holds ("how many loads does the big dryer
        take") when no description of the sizes answered says: not known, then what is."""
        cues = self.cues
        if not text or not sizes or not cues.asks_loads.search(turn.low):
            return text
        if any(cues.load_count(s.description) is not None for s in sizes):
            return text
        return self.say("dont_know_but", known=text)

    def _sizes_fitting(self, turn: Turn) -> list[SizeInfo]:
        """The sizes a question about choosing a machine means: those it names, else the ones
        whose description shares most words with it, else every size of its kind."""
        kind = turn.kind
        named = [s for w in turn.norm.words for s in self.sizes_by_word.get(w, [])]
        named = [s for s in named if kind is None or s.kind == kind]
        if named:
            return list(dict.fromkeys(named))
        sizes = self.knowledge.sizes(kind or "washer")
        asked = set(turn.norm.features) - ENTITY_FEATURES - {"washer", "dryer"}
        shared = {s: len(asked & set(self.normalize(s.description).features)) for s in sizes}
        most = max(shared.values(), default=0)
        if most and list(shared.values()).count(most) == 1:
            return [s for s in sizes if shared[s] == most]
        return list(sizes)
