"""The HTML report: one self-contained page, escaped, with a laid-out lineage picture; rendered in headless
Chromium (the Debian `chromium` package, installed by the test set-up) and checked on what the page shows."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from outputs_support import BASE, CHILD, TEACHER, Golden, weights_case

from provenance.policy.command import evaluate
from provenance.report.html import NODE_GAP, depths, layout, render_html

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class _Page(HTMLParser):
    """Text inside SVG <text> elements, table cells, and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.svg_texts: list[str] = []
        self.cells: list[str] = []
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._stack.append(tag)
        if tag == "text":
            self.svg_texts.append("")
        elif tag in {"td", "th"}:
            self.cells.append("")
        self.urls += [
            v or "" for k, v in attrs if k in {"src", "href", "xlink:href", "srcset", "poster", "data"}
        ]

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "text" in self._stack and self.svg_texts:
            self.svg_texts[-1] += data
        elif ("td" in self._stack or "th" in self._stack) and self.cells:
            self.cells[-1] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def assert_self_contained(html: str) -> None:
    page = parse(html)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert "iframe" not in page.tags and "object" not in page.tags
    assert not page.urls, page.urls
    assert "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) <= {"#arrow"}


def test_page_is_self_contained_and_shows_every_node_and_edge() -> None:
    case = weights_case()
    html = render_html(case.evaluation)
    assert_self_contained(html)
    page = parse(html)
    for node in (CHILD, BASE, TEACHER):
        assert node in page.svg_texts
    assert "finetune 0.90" in page.svg_texts
    assert "distillation 0.80" in page.svg_texts
    assert "license.declared-incomplete" in page.cells


def test_model_text_is_escaped() -> None:
    hostile = 'acme/<script>alert("x")</script><img src=x onerror=alert(1)>'
    html = render_html(weights_case(child=hostile).evaluation)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert_self_contained(html)


def test_layout_rows_follow_depth_and_boxes_do_not_overlap() -> None:
    graph = weights_case().evaluation.graph
    picture = layout(graph)
    depth = depths(graph)
    boxes = {b.id: b for b in picture.nodes}
    assert boxes[CHILD].root
    for node_id, box in boxes.items():
        assert (box.y > boxes[CHILD].y) == (depth[node_id] > 0)
    same_row = sorted((b for b in picture.nodes if b.y == boxes[BASE].y), key=lambda b: b.x)
    for left, right in itertools.pairwise(same_row):
        assert left.x + left.width + NODE_GAP <= right.x + 0.01
    for box in picture.nodes:
        assert box.x >= 0 and box.x + box.width <= picture.width
    for edge in picture.edges:
        child, parent = boxes[edge.child], boxes[edge.parent]
        assert child.x <= edge.x1 <= child.x + child.width
        assert parent.x <= edge.x2 <= parent.x + parent.width


def test_layout_survives_cycles_and_edges_to_unlisted_models() -> None:
    graph = weights_case().evaluation.graph
    loop = replace(graph.edges[0], child=BASE, parent=CHILD)
    orphan = replace(graph.edges[0], child="lost/child", parent="lost/parent")
    picture = layout(replace(graph, edges=(*graph.edges, loop, orphan)))
    boxed = {b.id for b in picture.nodes}
    assert {CHILD, BASE, TEACHER, "lost/child", "lost/parent"} <= boxed
    assert len(picture.edges) == len(graph.edges) + 2
    html = render_html(replace(weights_case().evaluation, graph=replace(graph, edges=(*graph.edges, orphan))))
    assert "lost/parent" in parse(html).svg_texts


def test_verification_results_appear_when_given() -> None:
    verification = {
        "target": "./release",
        "summary": {"match": 2, "mismatch": 1},
        "files": [
            {"path": "model-00001.safetensors", "verdict": "match", "algorithm": "sha256", "reason": ""},
            {"path": "config.json", "verdict": "mismatch", "algorithm": "git-sha1", "reason": "edited"},
        ],
        "tensor_digest": {"digest": "td1:abc", "verdict": "match"},
    }
    html = render_html(weights_case().evaluation, verification=verification)
    page = parse(html)
    assert "Verification" in html
    assert "config.json" in page.cells and "mismatch" in page.cells
    assert "td1:abc" in html
    assert "Verification" not in render_html(weights_case().evaluation)


def chromium() -> str:
    found = next((shutil.which(name) for name in CHROMIUM_NAMES if shutil.which(name)), None)
    assert found, "headless Chromium is needed: apt-get install -y chromium"
    return found


def _chromium(html_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        f"--user-data-dir={html_file.parent / 'chromium-profile'}",
        *args,
        html_file.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_chromium_shows_the_lineage_and_findings(offline: None, tmp_path: Path, model: str) -> None:
    evaluation = evaluate(model)
    html_file = tmp_path / "report.html"
    html_file.write_text(render_html(evaluation), encoding="utf-8")
    dom = _chromium(html_file, "--dump-dom").stdout
    page = parse(dom)
    for node in evaluation.graph.nodes:
        assert node.id in page.svg_texts, node.id
    for edge in evaluation.graph.edges:
        assert f"{edge.relation} {edge.confidence:.2f}" in page.svg_texts
    for finding in evaluation.report.findings:
        assert finding.rule_id in page.cells
    for effective in evaluation.report.effective:
        assert effective.license_id in page.cells
    screenshot = tmp_path / "report.png"
    _chromium(html_file, f"--screenshot={screenshot}", "--window-size=1400,1000")
    data = screenshot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(data[16:20], "big") == 1400


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_html_golden(offline: None, golden: Golden, model: str) -> None:
    html = render_html(evaluate(model))
    assert_self_contained(html)
    golden(f"{model.rsplit('/', maxsplit=1)[-1]}.report.html", html)
