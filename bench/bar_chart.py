"""Draws a benchmark's table as a horizontal bar chart in SVG (bench/speed.sh, bench/peers.sh).

    python3 bench/bar_chart.py CHART.json OUT.svg

CHART.json: {"title": ..., "unit": ..., "groups": [{"label": ..., "bars": [{"label": ...,
"value": ...}, ...]}, ...]}; one row of bars per group, the first bar of each group
(lenetc) drawn in the accent colour, each bar labelled with its value and its ratio to
the first. The SVG is the same bytes for the same numbers (no date, fixed ids).
"""
import json
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402


def draw(chart, path):
    groups = chart["groups"]
    rows = sum(len(g["bars"]) for g in groups) + len(groups) - 1
    plt.rcParams["svg.hashsalt"] = "lenetc"
    plt.rcParams["svg.fonttype"] = "none"  # text as text: small, searchable
    fig, ax = plt.subplots(figsize=(8, 0.32 * rows + 1.2))
    y, ticks, labels = 0, [], []
    top = max(b["value"] for g in groups for b in g["bars"])
    for g in groups:
        first = g["bars"][0]["value"]
        for i, b in enumerate(g["bars"]):
            ax.barh(y, b["value"], color="#d9480f" if i == 0 else "#868e96", height=0.75)
            note = f"{b['value']:,.0f}" + ("" if i == 0 else f"  (lenetc {first / b['value']:.1f}x)")
            ax.text(b["value"] + top * 0.01, y, note, va="center", fontsize=8)
            ticks.append(y)
            labels.append(f"{g['label']}: {b['label']}" if i == 0 else b["label"])
            y += 1
        y += 1
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, top * 1.3)
    ax.set_xlabel(chart["unit"], fontsize=9)
    ax.set_title(chart["title"], fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Date": None})


if __name__ == "__main__":
    draw(json.load(open(sys.argv[1])), sys.argv[2])
