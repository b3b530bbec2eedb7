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
