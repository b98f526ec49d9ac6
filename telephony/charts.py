"""The calls-per-day chart, drawn as SVG on the server: no JavaScript library, works offline, and
the numbers are in the markup (titles) for screen readers and tests."""

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 180, 28, 22, 8


def calls_per_day(days: list[dict]) -> SafeString:
    """Stacked bars per day: answered (green) under missed (red)."""
    if not days:
        return SafeString("")
    peak = max((d["answered"] + d["missed"] for d in days), default=0) or 1
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = (WIDTH - PAD_LEFT) / len(days)
    bar = max(2.0, slot * 0.7)
    bars = []
    for index, day in enumerate(days):
        x = PAD_LEFT + index * slot + (slot - bar) / 2
        answered_h = day["answered"] / peak * plot_h
        missed_h = day["missed"] / peak * plot_h
        base = HEIGHT - PAD_BOTTOM
        label = f"{day['day']:%d %b}: {day['answered']} answered, {day['missed']} missed"
        bars.append((
            label, f"{x:.1f}", f"{base - answered_h:.1f}", f"{bar:.1f}", f"{answered_h:.1f}",
            f"{base - answered_h - missed_h:.1f}", f"{missed_h:.1f}", day["day"].isoformat(), day["answered"], day["missed"],
        ))
    ticks = [(f"{PAD_LEFT + i * slot + slot / 2:.1f}", HEIGHT - 6, f"{d['day']:%d %b}") for i, d in enumerate(days) if i % 7 == 0]
    return format_html(
        '<svg class="calls-chart" viewBox="0 0 {} {}" role="img" aria-label="Calls per day, answered and missed">'
        '<text x="2" y="{}" class="axis">{}</text><text x="2" y="{}" class="axis">0</text>{}{}</svg>',
        WIDTH, HEIGHT, PAD_TOP + 8, peak, HEIGHT - PAD_BOTTOM,
        format_html_join(
            "",
            '<g class="day" data-day="{7}" data-answered="{8}" data-missed="{9}"><title>{0}</title>'
            '<rect class="answered" x="{1}" y="{2}" width="{3}" height="{4}"></rect>'
            '<rect class="missed" x="{1}" y="{5}" width="{3}" height="{6}"></rect></g>',
            bars,
        ),
        format_html_join("", '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>', ticks),
    )
