"""Off a terminal the CLI's output is never wrapped: tables become tab-separated lines."""

import io

from rich.console import Console
from rich.table import Table

from citydata.cli.console import print_table, table_lines

URL = "http://127.0.0.1:15000/dataset/phuong-xa-tphcm-danh-sach-phuong-xa-sau-sap-xep/resource/0f1e2d3c"


def _table() -> Table:
    table = Table("dataset", "result", "catalog (CKAN)", title="Datasets")
    table.add_row("phuong-xa-tphcm", "[green]ok[/]", URL)
    table.add_row("tinh-thanh-2025", "[red]failed[/]", "-")
    return table


def test_off_a_terminal_a_table_is_tab_separated_lines_without_markup():
    out = io.StringIO()
    print_table(_table(), Console(file=out, width=40, force_terminal=False))
    assert out.getvalue().splitlines() == [
        "Datasets",
        "dataset\tresult\tcatalog (CKAN)",
        f"phuong-xa-tphcm\tok\t{URL}",
        "tinh-thanh-2025\tfailed\t-",
    ]
    assert table_lines(_table())[2].split("\t")[2] == URL


def test_on_a_narrow_terminal_a_url_stays_on_one_line():
    out = io.StringIO()
    print_table(_table(), Console(file=out, width=40, force_terminal=True, color_system=None))
    assert any(URL in line for line in out.getvalue().splitlines())
    assert "phuong-xa-tphcm" in out.getvalue().replace("\n", "").replace("│", "").replace(" ", "")
