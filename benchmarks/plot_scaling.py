#!/usr/bin/env python3
"""Draws cost per operation against scale from chatroute_bench's JSON output, as an SVG.

    plot_scaling.py bench.json out.svg

One panel per series (agents, spaces, live conversations, issue 13's live series); log-log axes; one line per
command for the engine, and the naive router's lifecycle dashed where it was measured.
No dependencies beyond the standard library.
"""
import json
import math
import sys

SERIES = [("agents", "Agents (100 spaces, idle)"), ("spaces", "Spaces (1e5 agents)"),
          ("conversations", "Live conversations (1e4 agents)"),
          ("live", "Live conversations ~1.5 per agent (per command)")]
COLORS = {"lifecycle": "#222222", "start": "#1f77b4", "accept": "#ff7f0e", "decline": "#2ca02c",
          "message": "#d62728", "typing": "#9467bd", "note": "#8c564b", "set_availability": "#e377c2",
          "end": "#7f7f7f", "resolve": "#bcbd22", "storm": "#17becf", "storm_1k": "#98df8a",
          "mix": "#ff00aa"}


def load(path):
    with open(path) as f:
        data = json.load(f)
    points = {}  # (series, command, router) -> [(size, ns)]
    for b in data["benchmarks"]:
        if b.get("error_occurred") or b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) < 4 or "items_per_second" not in b or b["items_per_second"] <= 0:
            continue
        series, command, router, size = parts[:4]
        points.setdefault((series, command, router), []).append((float(size), 1e9 / b["items_per_second"]))
    for v in points.values():
        v.sort()
    return points


def panel(points, series, title, x0, y0, w, h):
    lines = {k: v for k, v in points.items() if k[0] == series and (k[2] == "ours" or k[1] == "lifecycle")}
    if not lines:
        return []
    xs = [p[0] for v in lines.values() for p in v]
    ys = [p[1] for v in lines.values() for p in v]
    lx0, lx1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    lx1 = max(lx1, lx0 + 1)
    ly1 = max(ly1, ly0 + 1)
    left, top, pw, ph = x0 + 60, y0 + 30, w - 80, h - 80

    def px(x):
        return left + (math.log10(x) - lx0) / (lx1 - lx0) * pw

    def py(y):
        return top + ph - (math.log10(y) - ly0) / (ly1 - ly0) * ph

    out = [f'<text x="{x0 + w / 2}" y="{y0 + 18}" text-anchor="middle" font-weight="bold">{title}</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>']
    for e in range(lx0, lx1 + 1):
        x = px(10 ** e)
        out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x}" y="{top + ph + 16}" text-anchor="middle" font-size="11">1e{e}</text>')
    for e in range(ly0, ly1 + 1):
        y = py(10 ** e)
        out.append(f'<line x1="{left}" y1="{y}" x2="{left + pw}" y2="{y}" stroke="#eee"/>')
        label = f"{10 ** e:g}" if e < 6 else f"1e{e}"
        out.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11">{label}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{top + ph + 34}" text-anchor="middle" font-size="12">{series}</text>')
    out.append(f'<text x="{x0 + 14}" y="{top + ph / 2}" text-anchor="middle" font-size="12" '
               f'transform="rotate(-90 {x0 + 14} {top + ph / 2})">ns per operation</text>')
    for (s, command, router), v in sorted(lines.items()):
        color = COLORS.get(command, "#000")
        dash = ' stroke-dasharray="5,4"' if router == "naive" else ""
        width = 2.5 if command == "lifecycle" else 1.5
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in v)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"{dash}/>')
        for x, y in v:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{color}"/>')
    return out


def main():
    points = load(sys.argv[1])
    w, h = 420, 360
    body = []
    for i, (series, title) in enumerate(SERIES):
        body += panel(points, series, title, i * w, 0, w, h)
    commands = sorted({k[1] for k in points if k[2] == "ours" and k[0] in {s for s, _ in SERIES}},
                      key=lambda c: list(COLORS).index(c) if c in COLORS else 99)
    legend_y = h + 10
    for i, command in enumerate(commands + ["naive lifecycle"]):
        x = 20 + (i % 6) * 200
        y = legend_y + (i // 6) * 20
        naive = command == "naive lifecycle"
        color = COLORS["lifecycle"] if naive else COLORS.get(command, "#000")
        dash = ' stroke-dasharray="5,4"' if naive else ""
        body.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{color}" stroke-width="2"{dash}/>')
        body.append(f'<text x="{x + 30}" y="{y + 4}" font-size="12">{command}</text>')
    total_h = legend_y + 20 * ((len(commands) + 1 + 5) // 6) + 10
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w * len(SERIES)}" height="{total_h}" '
           f'font-family="sans-serif" font-size="13">',
           f'<rect width="100%" height="100%" fill="white"/>'] + body + ["</svg>"]
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
