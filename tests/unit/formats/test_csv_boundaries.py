"""Cut points between CSV records, for parsing pieces of a file on several threads."""

from __future__ import annotations

import pytest

from connectors.formats.csv.boundaries import last_boundary

LF, CR, QUOTE, SEMI = 0x0A, 0x0D, ord('"'), ord(";")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a;b\nc;d\ne;f", (8, True, False)),  # the last record is incomplete
        (b"a;b\nc;d\n", (8, True, False)),
        (b"no line break yet", (0, True, False)),
        (b'a;"x\ny"\nb;c', (8, True, True)),  # the first line break is inside a value
        (b'a;"x\ny\nb;c', (0, True, False)),  # still inside the value: look further
        (b'a;"say ""hi"""\nb;c\n', (19, True, True)),  # doubled quotes
        (b'b;c\na;12" tv\nd;e\n', (4, False, False)),  # a stray quote: cut only before it
        (b'12" tv;a\nb;c\n', (0, False, False)),
    ],
)
def test_cuts_with_quotes(data: bytes, expected: tuple[int, bool, bool]) -> None:
    assert last_boundary(data, LF, QUOTE, SEMI) == expected


def test_without_quoting_every_line_break_counts() -> None:
    assert last_boundary(b'a;"x\ny"\nb', LF, None, SEMI) == (8, True, False)


def test_cr_only_files_never_cut_inside_crlf_or_at_the_very_end() -> None:
    assert last_boundary(b"a;b\rc;d\r", CR, QUOTE, SEMI) == (
        4,
        True,
        False,
    )  # what follows the end is unknown
    assert last_boundary(b"a;b\rc;d\r\ne", CR, QUOTE, SEMI) == (4, True, False)
    assert last_boundary(b'a;"x\ry"\rb;c\re', CR, QUOTE, SEMI) == (12, True, True)
