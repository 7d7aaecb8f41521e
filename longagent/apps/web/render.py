"""Templates and the helpers they use. Autoescaping is on for every template, so document
text, questions, answers and quotes always reach the page as text, never as markup."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import networkx as nx
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from longagent.agents.types import ConflictGraph

HERE = Path(__file__).parent
PALETTE = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16"]


def utf16_offset(text: str, offset: int) -> int:
    """A Python (code point) offset as a JavaScript (UTF-16) one, for the browser's Range."""
    if text.isascii():
        return offset
    return len(text[:offset].encode("utf-16-le")) // 2


def when(value: datetime) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M")


def graph_picture(graph: ConflictGraph, width: int = 320) -> dict[str, Any]:
    """Positions for drawing a conflict graph as SVG: members on a circle (networkx
    layout), coloured by answer cluster, an edge for every conflict."""
    height = 110 if len(graph.nodes) <= 2 else 220  # two members sit on one line
    g = nx.Graph()
    g.add_nodes_from(int(n["member"]) for n in graph.nodes)
    g.add_edges_from(graph.edges)
    layout = nx.circular_layout(g) if len(g) > 1 else {n: (0.0, 0.0) for n in g}
    margin = 44

    def place(member: int) -> tuple[float, float]:
        x, y = layout[member]
        return (
            round(width / 2 + float(x) * (width / 2 - margin), 1),
            round(height / 2 + float(y) * (height / 2 - margin + 10), 1),
        )

    nodes = []
    for node in graph.nodes:
        x, y = place(int(node["member"]))
        cluster = int(node.get("cluster", 0))
        answer = str(node.get("answer", ""))
        nodes.append(
            {
                "member": node["member"],
                "x": x,
                "y": y,
                "color": PALETTE[cluster % len(PALETTE)],
                "answer": answer if len(answer) <= 22 else answer[:21] + "…",
                "below": y >= height / 2 or math.isclose(y, height / 2),
            }
        )
    edges = [(*place(a), *place(b)) for a, b in graph.edges]
    return {"width": width, "height": height, "nodes": nodes, "edges": edges}


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its suffix
        undefined=StrictUndefined,  # a typo in a template fails loudly in tests
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(utf16_offset=utf16_offset, graph_picture=graph_picture)
    env.filters["when"] = when
    return Jinja2Templates(env=env)
