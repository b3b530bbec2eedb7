"""Bar charts drawn on the server as SVG geometry: the template only places rectangles, so
no chart script runs in the browser and the page reads the same with JavaScript off."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
HEIGHT = 160


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    label: str
    value: str


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not self.bars or all(bar.height == 0 for bar in self.bars)


def bar_chart(title: str, points: list[tuple[str, int, str]]) -> BarChart:
    """``points`` are (label, value, value as shown); negative values draw as zero height
    (net refunds show in the table beside the chart)."""
    if not points:
        return BarChart(title, [])
    top = max(max(value for _, value, _ in points), 1)
    slot = WIDTH // len(points)
    gap = max(slot // 6, 1)
    bars = []
    for index, (label, value, shown) in enumerate(points):
        height = max(value, 0) * (HEIGHT - 10) // top
        bars.append(
            Bar(index * slot + gap // 2, HEIGHT - height, slot - gap, height, label, shown)
        )
    return BarChart(title, bars)


@dataclass(frozen=True)
class LineChart:
    title: str
    # The polyline's "x,y x,y ..." in the view box.
    points: str
    # The text alternative: each point as (label, value as shown).
    rows: list[tuple[str, str]]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def summary(self) -> str:
        """What the line says in words, for the image's label."""
        (first, start), (last, end) = self.rows[0], self.rows[-1]
        return f"{start} on {first}, {end} on {last}"


def line_chart(title: str, points: list[tuple[str, int, str]]) -> LineChart:
    """``points`` as for :func:`bar_chart`, joined by a line; negative values draw at zero."""
    if not points:
        return LineChart(title, "", [])
    top = max(max(value for _, value, _ in points), 1)
    step = (WIDTH - 2) / max(len(points) - 1, 1)
    coordinates = " ".join(
        f"{1 + round(index * step)},{HEIGHT - 4 - max(value, 0) * (HEIGHT - 10) // top}"
        for index, (_, value, _) in enumerate(points)
    )
    return LineChart(title, coordinates, [(label, shown) for label, _, shown in points])
