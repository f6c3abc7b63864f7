"""Where data comes from: local files (one reader per format), the Hugging Face Hub, and the fallback rule.

- :func:`read_file` reads a local ``.json``/``.jsonl``/``.csv``/``.tsv``/``.parquet`` table;
- :func:`read_stsb_tsv` reads the STS-benchmark's own TSV files (no header, score in column 5);
- :func:`load_source` takes a local file or a Hub data-set name, and gives None when the Hub is
  out of reach, so that the caller can fall back to the bundled data and say so
  (:func:`fallback_message`);
- :func:`load_training_rows` brings any supported layout into the trainer's layout (converting a
  raw Hub schema with :mod:`stutor.schemas`) and checks it once: it returns the rows *and* their
  :class:`~stutor.cases.CaseReport`, which later steps take instead of scanning again.

Taught in: notebook 04 (schemas and layouts), 03 (STS files) and 07 (the QQP triplets); the
``stutor-train`` command loads its ``--data`` with it.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stutor import cases, schemas

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset

DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet")
_BUILDERS = {".json": "json", ".jsonl": "json", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}


def is_hub_name(source: str) -> bool:
    """Tell whether ``source`` looks like a Hub data-set name (``owner/name``) rather than a local path.

    Args:
        source: what the user passed.

    Returns:
        True for ``owner/name`` with no file suffix and no such local path.
    """
    parts = str(source).split("/")
    return len(parts) == 2 and all(parts) and not Path(source).suffix and not Path(source).exists()


def check_source(
    source: Any, *, name: str = "source", special: tuple[str, ...] = (), example: str = "embedding-data/QQP_triplets"
) -> None:
    """Check a data source before any loading: one of ``special``, an existing data file, or a Hub name.

    Args:
        source: the value to check.
        name: how the argument is called in messages (``--data`` for the command).
        special: words that mean something else (``"bundled"``), accepted as they are.
        example: a Hub name to show in the message.

    Raises:
        TypeError: not a string or path.
        ValueError: a folder, a file of another kind, a missing file, or something that is neither.
    """
    if not isinstance(source, str | Path) or not str(source).strip():
        raise TypeError(f"{name} must be a file path or a Hub data set name (a str), not {source!r}.")
    source = str(source)
    if source in special:
        return
    path = Path(source).expanduser()
    kinds = "/".join(DATA_SUFFIXES)
    if path.is_dir():
        raise ValueError(f"{name} {source!r} is a folder; pass a {kinds} file in it.")
    if path.is_file():
        if path.suffix.lower() not in DATA_SUFFIXES:
            raise ValueError(f"{name} {source!r} has suffix {path.suffix!r}; use a {kinds} file.")
        return
    if path.suffix.lower() in DATA_SUFFIXES or (("/" in source or "\\" in source) and not is_hub_name(source)):
        raise ValueError(f"{name} file {source!r} does not exist.")
    if not is_hub_name(source):
        choices = "".join(f"{s!r}, " for s in special)
        raise ValueError(
            f"{name} {source!r} is neither {choices}an existing file, nor a Hub data set name like {example!r}."
        )


def read_file(path: str | Path) -> Dataset:
    """Read a local data file into a ``Dataset``: JSON (a list, or one object a line), CSV, TSV or Parquet.

    Args:
        path: the file; its suffix picks the reader.

    Returns:
        The rows, with the file's own columns.

    Raises:
        ValueError: no such file, or a suffix that is not one of :data:`DATA_SUFFIXES`.
    """
    from datasets import load_dataset

    file = Path(path).expanduser()
    check_source(str(file), name="path")
    if not file.is_file():
        raise ValueError(f"path {str(file)!r} does not exist.")
    suffix = file.suffix.lower()
    extra = {"delimiter": "\t"} if suffix == ".tsv" else {}
    return load_dataset(_BUILDERS[suffix], data_files=str(file), split="train", **extra)


def read_stsb_tsv(path: str | Path) -> dict[str, list[Any]]:
    """Read an STS-benchmark file (e.g. ``sts-test.csv``): tab-separated, no header.

    Columns (1-based): 5 is the gold score 0-5, 6 and 7 the two sentences; some rows carry extra
    trailing columns (sources), which are ignored. Quotes are plain characters (``QUOTE_NONE``).

    Args:
        path: the file.

    Returns:
        ``{"sentence1": [...], "sentence2": [...], "score": [...]}`` with scores 0-5.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a row with fewer than 7 columns, a non-numeric, NaN or out-of-range score,
            or an empty file (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. Pass the path of an STS-benchmark TSV file (such as sts-test.csv "
            "from stsbenchmark.tar.gz), or use stutor.data.load_stsb() for the Hub version."
        )
    columns: dict[str, list[Any]] = {"sentence1": [], "sentence2": [], "score": []}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < 7:
                raise ValueError(
                    f"{path}, line {line}: {len(row)} tab-separated columns, but an STS-benchmark row has at "
                    "least 7 (genre, file, year, id, score, sentence1, sentence2). Is this the right file?"
                )
            try:
                score = float(row[4])
            except ValueError:
                raise ValueError(
                    f"{path}, line {line}: the score (column 5) is {row[4]!r}, not a number. "
                    "Fix that row or check the column order."
                ) from None
            if math.isnan(score) or not 0.0 <= score <= 5.0:
                raise ValueError(f"{path}, line {line}: score {row[4]!r} is outside 0-5; fix or remove that row.")
            columns["score"].append(score)
            columns["sentence1"].append(row[5])
            columns["sentence2"].append(row[6])
    if not columns["score"]:
        raise ValueError(f"{path} holds no rows: pass a non-empty STS-benchmark file.")
    return columns


def fallback_message(wanted: str, used: str) -> str:
    """The one line printed when a Hub data set is out of reach.

    Args:
        wanted: the Hub name that was asked for.
        used: what is used instead.

    Returns:
        The message.
    """
    return f"Hugging Face Hub out of reach: using the bundled {used} instead of {wanted}."


def load_source(source: str | Path, hub_name: str, split: str) -> Dataset | None:
    """Load a data set from a local file or the Hub, never waiting long for the Hub.

    Args:
        source: a local .json/.jsonl/.parquet/.csv/.tsv file, or a Hub data set name.
        hub_name: the Hub name this loader expects (used in error messages).
        split: the split to load from the Hub.

    Returns:
        The rows, or None when the Hub cannot be reached (the caller falls back). Only a Hub
        name can give None: a local path that does not exist, a folder or a file of another
        kind is refused (:func:`check_source`), never replaced by other data.

    Raises:
        ValueError: a bad local path, or something that is neither a file nor a Hub name.
    """
    from datasets import load_dataset

    from stutor.models import hub_status

    check_source(source, name="source", example=hub_name)
    path = Path(source).expanduser()
    if path.is_file():
        return read_file(path)
    if hub_status(str(source), repo_type="dataset") != "found":
        return None
    return load_dataset(str(source), split=split)


def load_training_rows(
    source: str | Path, *, schema: str | None = None, split: str = "train"
) -> tuple[Dataset, cases.CaseReport] | None:
    """Load a local file or Hub data set in any supported layout into the trainer's layout, checked once.

    Rows in one of the raw schemas of :data:`stutor.schemas.SCHEMAS` are converted (``schema``
    names it, or it is detected); other rows must be in the trainer's layout already (text
    columns, then ``label``/``score``). Either way the rows are scanned once, by
    :func:`stutor.cases.detect_case`.

    Args:
        source: a local data file or a Hub data set name.
        schema: the raw schema, or None to use the layout as it is or detect the schema.
        split: the Hub split.

    Returns:
        ``(rows, report)``: the rows, only their input and label columns, and their
        :class:`~stutor.cases.CaseReport`; or None when the Hub is out of reach.

    Raises:
        ValueError / TypeError: rows in neither the trainer's layout nor a known schema.
    """
    if schema is not None:
        schemas.check_schema_name(schema)
    raw = load_source(source, str(source), split)
    if raw is None:
        return None
    if schema is None:
        try:
            schema = schemas.detect_schema(raw).name
        except ValueError as schema_error:  # no raw schema: it must be in the trainer's layout already
            try:
                report = cases.detect_case(raw)
            except (ValueError, TypeError) as layout_error:
                raise ValueError(
                    f"{source}: not in the trainer's layout ({layout_error}) and not a known raw schema ({schema_error})"
                ) from None
            return _layout(raw, report)
    return _layout(*schemas.convert_checked(raw, schema))


def _layout(rows: Dataset, report: cases.CaseReport) -> tuple[Dataset, cases.CaseReport]:
    """Keep only the columns the trainer reads (it reads them by position)."""
    columns = list(report.text_columns) + ([report.label_column] if report.label_column else [])
    return (rows if rows.column_names == columns else rows.select_columns(columns)), report
