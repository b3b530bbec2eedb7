"""Reading a /metrics answer: samples by name and labels, parsed by prometheus_client's own
parser (so a malformed exposition fails the test)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels``; 0 when absent (a counter not yet seen)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def total(text: str, name: str, **labels: str) -> float:
    """The sum of every ``name`` sample whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(
        v for (n, got), v in samples(text).items() if n == name and wanted <= set(got)
    )
