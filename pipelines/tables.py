"""Every table datasre prints for people: one text printer and one Markdown builder.

Both are `tabulate <https://pypi.org/project/tabulate/>`_ (docs/printing.md says why it
rather than rich): a pure function from rows to a string, no terminal detection, so the
output is the same in a terminal, a pipe, a CI log and a golden file. Escaping stays with
:mod:`pipelines.escape`, per format: :func:`text_table` shows every cell through
:func:`~pipelines.escape.terminal` (a value can neither recolour the terminal nor split a
line); :func:`markdown_table` takes cells already made Markdown (:func:`markdown_cell`
for a value, or a link or icon the caller built).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.escape import markdown, terminal

__all__ = ["cell_text", "markdown_cell", "markdown_table", "text_table"]


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, indent: str = ""
) -> list[str]:
    """Lines of a plain table: left-aligned columns two spaces apart, the header first,
    no rule, trailing blanks trimmed. ``None`` shows as an empty cell; everything else
    as ``str(value)``, control characters escaped."""
    cells = [[terminal(h) for h in header]]
    cells += [["" if value is None else terminal(str(value)) for value in row] for row in rows]
    from tabulate import tabulate  # here: with wcwidth it costs ~35 ms a process

    text: str = tabulate(
        cells, tablefmt="plain", disable_numparse=True, stralign="left", preserve_whitespace=True
    )
    return [(indent + line).rstrip() for line in text.split("\n")]


def cell_text(
    value: object,
    *,
    missing: str = "",
    booleans: tuple[str, str] = ("true", "false"),
    digits: int = 6,
) -> str:
    """A value as cell text: ``None`` as ``missing``, booleans as ``booleans`` (true's
    word first), floats to ``digits`` significant digits, anything else ``str(value)``."""
    if value is None:
        return missing
    if isinstance(value, bool):
        return booleans[0] if value else booleans[1]
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def markdown_cell(value: object) -> str:
    """A value as literal Markdown table-cell text: ``None`` empty, booleans ``true`` /
    ``false``, floats to 6 significant digits (:func:`cell_text`), text escaped."""
    if value is None or isinstance(value, bool | float):
        return cell_text(value)
    return markdown(str(value))


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = ""
) -> list[str]:
    """Lines of a GitHub-flavoured Markdown table of cells that are Markdown already
    (see :func:`markdown_cell`); ``indent`` nests it in a list item."""
    from tabulate import tabulate  # here: with wcwidth it costs ~35 ms a process

    text: str = tabulate(
        [list(row) for row in rows],
        headers=list(header),
        tablefmt="github",
        disable_numparse=True,
        stralign="left",
        preserve_whitespace=True,
    )
    return [indent + line for line in text.split("\n")]
