"""Due work in time order: renewals, trial ends, retries, expiries.

Each source looks at one object of one kind and yields `(due_at, priority, action)`; its
`scope` says which time the object lives on (a test clock's id, or `None` for real time).
`run_due` repeatedly runs the earliest due action with the scope's clock set to that moment,
so objects and events carry the time at which things happened.

Finding due work costs what changed, not every object: the store keeps a feed of the ids put
or removed since the scheduler last looked, and only those objects are evaluated again. Their
work goes into one heap per scope; an entry whose object was evaluated since is stale and is
dropped when it reaches the top. Equal `(due_at, priority)` keys run in source order, then
newest object first (Stripe's list order), then in the order the source yields them.
Setting `PLANGATE_SANDBOX_SCAN=1` evaluates every object on each step instead (the reference
the index is checked against).
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core import Sandbox
    from .wire import Obj

Action = Callable[[int], None]
Work = Callable[["Sandbox", "Obj"], Iterable[tuple[int, int, Action]]]
Scope = Callable[["Sandbox", "Obj"], "str | None"]


@dataclass(frozen=True)
class Source:
    kind: str
    scope: Scope
    work: Work
    # The id of another object the scope is read from; a change to that object has this one
    # evaluated again (a customer deleted with its clock moves its sessions to real time).
    follows: Callable[[Obj], str | None] | None = None


SOURCES: list[Source] = []


def source(kind: str, scope: Scope, follows: Callable[[Obj], str | None] | None = None
           ) -> Callable[[Work], Work]:
    """Register `work` for each object of `kind`, on the clock `scope` gives."""
    def register(work: Work) -> Work:
        SOURCES.append(Source(kind, scope, work, follows))
        return work
    return register


def own_clock(sb: Sandbox, obj: Obj) -> str | None:
    clock = obj.get("test_clock")
    return clock if isinstance(clock, str) else None


def customer_clock(sb: Sandbox, obj: Obj) -> str | None:
    """The object's own clock, or its customer's (`Sandbox.clock_id_of`)."""
    return sb.clock_id_of(obj)


def customer_of(obj: Obj) -> str | None:
    customer = obj.get("customer") or obj.get("_customer")
    return customer if isinstance(customer, str) else None


# An entry: (due_at, priority, source index, -created, -seq, yield index, id, version, action).
Entry = tuple[int, int, int, int, int, int, str, int, Action]


@dataclass
class DueIndex:
    heaps: dict[str | None, list[Entry]] = field(default_factory=dict)
    version: dict[str, int] = field(default_factory=dict)
    followers: dict[str, set[str]] = field(default_factory=dict)
    evaluations: int = 0  # how many objects were evaluated, for tests and benchmarks

    def refresh(self, sb: Sandbox) -> None:
        changed = sb.store.take_changes()
        for id_ in [i for i in changed if i in self.followers]:
            changed |= self.followers[id_]
        for id_ in changed:
            self.version[id_] = version = self.version.get(id_, 0) + 1
            obj = sb.store.find(id_)
            if obj is None:
                continue
            kind = sb.store.kind_of(id_)
            for number, src in enumerate(SOURCES):
                if src.kind == kind:
                    self._add(sb, number, src, obj, version)

    def _add(self, sb: Sandbox, number: int, src: Source, obj: Obj, version: int) -> None:
        self.evaluations += 1
        followed = src.follows(obj) if src.follows else None
        if followed is not None:
            self.followers.setdefault(followed, set()).add(obj["id"])
        heap = self.heaps.setdefault(src.scope(sb, obj), [])
        age = (-int(obj.get("created", 0)), -int(obj["_seq"]))
        for n, (at, priority, action) in enumerate(src.work(sb, obj)):
            heapq.heappush(heap, (int(at), priority, number, *age, n, obj["id"], version, action))

    def earliest(self, sb: Sandbox, scope: str | None, until: int) -> tuple[int, Action] | None:
        self.refresh(sb)
        heap = self.heaps.get(scope)
        while heap:
            entry = heap[0]
            if self.version.get(entry[6]) != entry[7]:
                heapq.heappop(heap)
                continue
            return (entry[0], entry[8]) if entry[0] <= until else None
        return None


def index_of(sb: Sandbox) -> DueIndex:
    index: DueIndex | None = getattr(sb, "_due_index", None)
    if index is None:
        index = DueIndex()
        sb._due_index = index  # type: ignore[attr-defined]
    return index


def _scan(sb: Sandbox, scope: str | None, until: int) -> tuple[int, Action] | None:
    """The reference: every object of every source, the first of the smallest keys."""
    due = [
        item
        for src in SOURCES
        for obj in sb.store.all(src.kind)
        if src.scope(sb, obj) == scope
        for item in src.work(sb, obj)
        if item[0] <= until
    ]
    if not due:
        return None
    at, _, action = min(due, key=lambda d: (d[0], d[1]))
    return at, action


def _touched(action: Action) -> Iterable[str]:
    """The objects an action is bound to; they are evaluated again after it runs, whether or
    not it put them."""
    for arg in getattr(action, "args", ()):
        if isinstance(arg, dict) and isinstance(arg.get("id"), str):
            yield arg["id"]


def run_due(sb: Sandbox, clock_id: str | None, until: int) -> None:
    """Run everything due on `clock_id` up to `until`. For a test clock, its `frozen_time`
    steps through each due moment; for real time, work happens late but is dated from the
    objects' own periods."""
    clock = sb.store.get("test_helpers.test_clock", clock_id) if clock_id else None
    scan = os.environ.get("PLANGATE_SANDBOX_SCAN") == "1"
    index = index_of(sb)
    for _ in range(100_000):  # a bound, so a faulty source cannot spin forever
        found = _scan(sb, clock_id, until) if scan else index.earliest(sb, clock_id, until)
        if found is None:
            break
        at, action = found
        if clock is not None:
            clock["frozen_time"] = max(int(clock["frozen_time"]), at)
            sb.store.put(clock)
        action(at)
        sb.store.mark_changed(_touched(action))
    if clock is not None:
        clock["frozen_time"] = until
        sb.store.put(clock)


def run_all_due(sb: Sandbox) -> None:
    """Catch up real time, and each test clock at its current frozen time (work that is due
    at once, such as a short trial's `trial_will_end`)."""
    run_due(sb, None, sb.real_now())
    for clock in sb.store.all("test_helpers.test_clock"):
        if clock["status"] == "ready":
            run_due(sb, clock["id"], int(clock["frozen_time"]))

