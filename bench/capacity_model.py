"""The capacity model of docs/scaling.md, from the measured figures of docs/benchmarks.md.

    .venv/bin/python -m bench.capacity_model                          # prints the tables
    .venv/bin/python -m bench.capacity_model --write docs/scaling.md  # updates the doc

Inputs: bench/capacity_inputs.toml (measured figures with their sections, and the modelled
SaaS's assumptions). Each table is printed between ``<!-- capacity:NAME -->`` and
``<!-- /capacity -->`` markers, the same markers the doc holds them in, so a test can check
that the doc's tables are this script's output.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

INPUTS = Path(__file__).with_name("capacity_inputs.toml")
DAY = 86_400
MONTH_DAYS = 30
BLOCK = re.compile(r"<!-- capacity:(\w+) -->\n(.*?)<!-- /capacity -->", re.S)


def load(path: Path = INPUTS) -> dict[str, dict[str, Any]]:
    with path.open("rb") as f:
        return tomllib.load(f)


def n(value: float) -> str:
    """A count: thousands separated; one decimal under 100."""
    if abs(value) < 100 and value != int(value):
        return f"{value:,.1f}"
    return f"{round(value):,}"


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def size(num_bytes: float) -> str:
    gb = num_bytes / 1e9
    return f"{gb:,.0f} GB" if gb >= 10 else f"{gb:.1f} GB"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class Model:
    def __init__(self, inputs: dict[str, dict[str, Any]]) -> None:
        self.m, self.s, self.a = inputs["measured"], inputs["stripe"], inputs["assumed"]
        a, m = self.a, self.m
        self.checks_day = a["customers"] * a["daily_active_share"] * a["checks_per_active_customer"]
        self.consumes_day = (
            a["subscriptions"] * a["metered_share"] * a["consumes_per_metered_subscription"]
        )
        # A month's renewals and other changes; half (renew_on_first_share) renew on the 1st,
        # the rest of them and the other changes spread over the month's days.
        self.changes_month = a["subscriptions"] * (1 + a["other_changes_share"])
        self.renewals_first = a["subscriptions"] * a["renew_on_first_share"]
        changes_day = (self.changes_month - self.renewals_first) / MONTH_DAYS
        self.events_day = changes_day * m["events_per_renewal"]
        self.events_first = self.renewals_first * m["events_per_renewal"] + self.events_day
        self.deliveries_per_change = a["facts_per_change"] * a["endpoints"]
        self.deliveries_day = changes_day * self.deliveries_per_change
        self.deliveries_first = (
            self.events_first / m["events_per_renewal"] * self.deliveries_per_change
        )
        # On the 1st the sync runs as fast as the live budget lets it (requests per event after).
        self.sync_rate = s_rate = self.s["live_budget"] / m["stripe_requests_per_event_after"]
        self.delivery_rate_first = s_rate / m["events_per_renewal"] * self.deliveries_per_change

    def peak(self, per_day: float) -> float:
        return float(per_day) / DAY * float(self.a["peak_factor"])

    def inputs_table(self) -> str:
        m = self.m
        rows = [
            ["`check` over HTTP, PostgreSQL", f"{n(m['check_per_s'])} /s", "§1"],
            [
                "`consume`, REST (no key), 32 clients",
                f"{n(m['consume_rest_per_s'])} /s",
                "§2 run 2",
            ],
            ["`consume`, SDK (with a key)", f"{n(m['consume_keyed_per_s'])} /s", "§2 run 2"],
            [
                "raw conditional `UPDATE` (baseline)",
                f"{n(m['consume_raw_update_per_s'])} /s",
                "§2 run 2",
            ],
            ["Stripe events handled, one worker, backlog", f"{m['events_per_s']} /s", "§9"],
            [
                "Stripe requests per event, before → after",
                f"{m['stripe_requests_per_event_before']:.2f} → "
                f"{m['stripe_requests_per_event_after']:.2f}",
                "§9 backlog",
            ],
            ["events per renewal", n(m["events_per_renewal"]), "§9"],
            ["outbound deliveries, 2 processes", f"{m['deliveries_per_s']} /s", "§6"],
            ["Stripe call budget, tokens on one row", f"{n(m['budget_tokens_per_s'])} /s", "§8"],
            [
                "admin list, first page, 100,000 customers",
                f"{m['admin_list_p50_ms']} ms p50",
                "§7 (after)",
            ],
        ]
        return table(
            ["figure (2 shared cores, whole stack)", "measured", "docs/benchmarks.md"], rows
        )

    def load_table(self) -> str:
        def row(name: str, per_day: float, peak: str | None = None) -> list[str]:
            return [name, n(per_day), n(per_day / DAY), peak or n(self.peak(per_day))]

        rows = [
            row("`check` over HTTP", self.checks_day),
            row("`consume`", self.consumes_day),
            row("Stripe events, an ordinary day", self.events_day),
            row(
                "Stripe events, the 1st of the month",
                self.events_first,
                f"{n(self.sync_rate)} (the live budget)",
            ),
            row("outbound deliveries, an ordinary day", self.deliveries_day),
            row(
                "outbound deliveries, the 1st",
                self.deliveries_first,
                f"{n(self.delivery_rate_first)} (follows the sync)",
            ),
        ]
        return table(["operation", "per day", "average /s", "busiest hour /s"], rows)

    def stripe_table(self) -> str:
        m, s = self.m, self.s
        rows = []
        for key, budget, limit in (
            ("live", s["live_budget"], s["live_limit"]),
            ("test", s["test_budget"], s["test_limit"]),
        ):
            for label, per_event in (
                ("before", m["stripe_requests_per_event_before"]),
                ("after", m["stripe_requests_per_event_after"]),
            ):
                rate = budget / per_event
                rows.append(
                    [
                        f"{key} ({n(limit)}/s, budget {n(budget)}/s)",
                        f"{per_event:.2f} ({label})",
                        n(self.events_first * per_event),
                        n(rate),
                        duration(self.events_first / rate),
                        n(math.ceil(rate / m["events_per_s"])),
                    ]
                )
        return table(
            [
                "Stripe key (limit, budget)",
                "requests per event",
                "requests on the 1st",
                "events/s allowed",
                "the 1st drains in",
                "workers at §9's rate",
            ],
            rows,
        )

    def reconcile_table(self) -> str:
        s, a = self.s, self.a
        customers, page = a["stripe_customers"], s["list_page"]
        ways = [
            (
                f"today: {s['reconcile_requests_per_customer']} lists per Stripe customer",
                math.ceil(customers / page) + customers * s["reconcile_requests_per_customer"],
            ),
            ("one retrieve per subscription", a["subscriptions"]),
            ("every subscription listed, 100 a page", math.ceil(a["subscriptions"] / page)),
        ]
        rows = [
            [
                way,
                n(requests),
                duration(requests / s["live_budget"]),
                duration(requests / s["test_budget"]),
            ]
            for way, requests in ways
        ]
        header = [
            "a full reconcile",
            "Stripe requests",
            f"at the live budget ({n(s['live_budget'])}/s)",
            f"at the test budget ({n(s['test_budget'])}/s)",
        ]
        return table(header, rows)

    def primary_table(self) -> str:
        m, a = self.m, self.a
        ops: list[tuple[str, float, float, str]] = [
            ("`check` (snapshot read)", self.peak(self.checks_day), m["check_per_s"], "replica"),
            (
                "`consume` (SDK, keyed)",
                self.peak(self.consumes_day),
                m["consume_keyed_per_s"],
                "primary",
            ),
            ("Stripe sync, the 1st", self.sync_rate, m["events_per_s"], "primary"),
            (
                "outbound deliveries, the 1st",
                self.delivery_rate_first,
                m["deliveries_per_s"],
                "primary",
            ),
        ]
        rows, on_primary, total = [], 0.0, 0.0
        for name, rate, measured, where in ops:
            cores = rate / (measured / 2)
            total += cores
            on_primary += cores if where == "primary" else 0.0
            rows.append([name, n(rate), n(measured), f"{cores:.1f}", where])
        usable = a["primary_cores"] * a["usable_share"]
        rows.append(
            [
                "**all on one server**",
                "",
                "",
                f"**{total:.1f}**",
                f"{usable:.1f} usable of {a['primary_cores']}: **{usable / total:.1f}x** headroom",
            ]
        )
        rows.append(
            [
                "**primary, reads on replicas**",
                "",
                "",
                f"**{on_primary:.1f}**",
                f"**{usable / on_primary:.1f}x** headroom",
            ]
        )
        return table(
            [
                "operation",
                "busiest /s",
                "measured /s on 2 cores",
                "cores, whole stack",
                "served by",
            ],
            rows,
        )

    def storage_table(self) -> str:
        a = self.a
        ledger_rows = self.consumes_day * MONTH_DAYS
        event_rows = self.changes_month * self.m["events_per_renewal"]
        fact_rows = self.changes_month * a["facts_per_change"]
        rows = [
            [
                "`ledger_entries`",
                n(ledger_rows),
                size(ledger_rows * a["ledger_row_bytes"]),
                "forever",
                "monthly partitions by `created_at`; older than 13 months archived",
            ],
            [
                "`stripe_events`",
                n(event_rows),
                size(event_rows * a["stripe_event_row_bytes"]),
                "forever",
                "handled events deleted after 30 days (not built)",
            ],
            [
                "`outbox_messages` (+ deliveries)",
                n(fact_rows),
                size(fact_rows * a["outbox_fact_bytes"]),
                "`PLANGATE_OUTBOX_RETENTION_DAYS` (30)",
                "as today",
            ],
        ]
        return table(
            ["table", "rows a month", "size a month", "kept today", "kept after step 2"], rows
        )

    def blocks(self) -> dict[str, str]:
        makers: dict[str, Callable[[], str]] = {
            "inputs": self.inputs_table,
            "load": self.load_table,
            "stripe": self.stripe_table,
            "reconcile": self.reconcile_table,
            "primary": self.primary_table,
            "storage": self.storage_table,
        }
        return {name: make() for name, make in makers.items()}


def render(blocks: dict[str, str]) -> str:
    return "\n".join(f"<!-- capacity:{k} -->\n{v}<!-- /capacity -->\n" for k, v in blocks.items())


def blocks_in(text: str) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in BLOCK.finditer(text)}


def write(doc: Path, blocks: dict[str, str]) -> None:
    text = doc.read_text()
    missing = set(blocks) - set(blocks_in(text))
    if missing:
        raise SystemExit(f"{doc} has no block for: {', '.join(sorted(missing))}")
    doc.write_text(
        BLOCK.sub(
            lambda m: f"<!-- capacity:{m.group(1)} -->\n{blocks[m.group(1)]}<!-- /capacity -->",
            text,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--inputs", type=Path, default=INPUTS)
    parser.add_argument("--write", type=Path, help="replace the tables in this Markdown file")
    args = parser.parse_args(argv)
    blocks = Model(load(args.inputs)).blocks()
    if args.write:
        write(args.write, blocks)
    else:
        sys.stdout.write(render(blocks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
