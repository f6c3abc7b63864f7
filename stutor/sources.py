"""Where data comes from: local files (one reader per format), the Hugging Face Hub, and the fallback rule.

- :func:`read_file` reads a local ``.json``/``.jsonl``/``.csv``/``.tsv``/``.parquet`` table;
- :func:`read_stsb_tsv` reads the STS-benchmark's own TSV files (no header, score in column 5);
- :func:`load_source` takes a local file or a Hub data-set name, and gives None when the Hub is
  out of reach, so that the caller can fall back to the bundled data and say so
  (:func:`fallback_message`);
- :func:`load_training_rows` brings any supported layout into the trainer's layout (converting a
  raw Hub schema with :mod:`stutor.schemas`) and checks it once: it returns the rows *and* their
  :class:`~stutor.cases.CaseReport`, which later steps take instead of scanning again.

Taught in: notebook 03 (``read_stsb_tsv``, STS files); :mod:`stutor.data`'s loaders read through it in
notebooks 03, 04 and 07 (the QQP triplets, with a Hub model); the ``stutor-train`` command loads its
``--data`` with it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stutor import cases, schemas
from stutor.checks import check_rows

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset

DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet")


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


_MAGIC = {
    b"\x1f\x8b": "gzip-compressed (decompress it first: gunzip FILE)",
    b"PK\x03\x04": "a zip archive (unzip it first)",
    b"BZh": "bzip2-compressed (decompress it first: bunzip2 FILE)",
    b"\xfd7zXZ\x00": "xz-compressed (decompress it first: unxz FILE)",
    b"\x28\xb5\x2f\xfd": "zstd-compressed (decompress it first: unzstd FILE)",
    b"PAR1": "a Parquet file (name it .parquet)",
}
_UTF8_BOM = b"\xef\xbb\xbf"


def _text_of(file: Path) -> str:
    """The file's text, refusing what is not UTF-8 text, with the reason and the fix."""
    raw = file.read_bytes()
    if not raw.strip():
        raise ValueError(f"{file} is empty: it holds no rows. Pass a file with a header (CSV/TSV) or one row per line.")
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise ValueError(f"{file} is {what}, not a {file.suffix} text file.")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096] and raw[1:2] == b"\x00":
        raise ValueError(
            f"{file} is UTF-16 text; save it as UTF-8, e.g. "
            f"`iconv -f UTF-16 -t UTF-8 {file.name} > fixed{file.suffix}`."
        )
    if b"\x00" in raw[:4096]:
        raise ValueError(f"{file} holds binary data (NUL bytes), not {file.suffix} text.")
    raw = raw.removeprefix(_UTF8_BOM)  # a byte-order mark (as Excel writes it) is read past, not refused
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{file}, line {line}: not valid UTF-8 ({error.reason} at byte {error.start}). Save the file as UTF-8, "
            f"e.g. `iconv -f latin1 -t utf-8 {file.name} > fixed{file.suffix}`."
        ) from None


def _cell(text: str) -> Any:
    """A CSV cell as int, float or str, as pandas would read it; an empty cell is None."""
    if text == "":
        return None
    for parse in (int, float):
        try:
            value = parse(text)
        except ValueError:
            continue
        return value if parse is int or math.isfinite(value) else text
    return text


def _read_delimited(file: Path, delimiter: str) -> list[dict[str, Any]]:
    text = _text_of(file)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    kind = "tab" if delimiter == "\t" else "comma"
    try:
        header = next(reader)
        if not any(name.strip() for name in header) or len(set(header)) != len(header):
            raise ValueError(
                f"{file}, line 1: the header {header} needs one distinct, non-empty name per column "
                "(e.g. sentence1, sentence2, score)."
            )
        rows = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ValueError(
                    f"{file}, line {reader.line_num}: {len(row)} {kind}-separated fields, but the header has "
                    f"{len(header)} ({', '.join(header)}). Quote fields that contain a {kind} "
                    f"{'(or use a .tsv file)' if kind == 'comma' else ''}, or fix that line.".rstrip()
                )
            rows.append(dict(zip(header, (_cell(cell) for cell in row), strict=True)))
    except csv.Error as error:
        raise ValueError(
            f"{file}, line {reader.line_num}: {error}. Is a quote left open (a cut-off last line)? Close it or "
            "remove that line."
        ) from None
    if not rows:
        raise ValueError(f"{file} has a header ({', '.join(header)}) but no rows.")
    return rows


def _read_json(file: Path) -> list[dict[str, Any]]:
    text = _text_of(file)
    stripped = text.lstrip()
    if stripped.startswith("["):  # one JSON array of row objects
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{file}, line {error.lineno}: invalid JSON ({error.msg}). Fix that line.") from None
        what = "element"
    else:  # JSON Lines: one object per line
        rows, what = [], "line"
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ValueError(
                    f"{file}, line {number}: invalid JSON ({error.msg} at column {error.colno}). Each line of a "
                    'JSON Lines file holds one complete object like {"anchor": "...", "positive": "..."}.'
                ) from None
            if not isinstance(rows[-1], dict):
                raise ValueError(f"{file}, line {number}: {line.strip()[:40]!r} is not a JSON object (a row).")
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{file} holds no rows: write a JSON array of objects, or one object per line (JSON Lines).")
    bad = next((i for i, row in enumerate(rows, start=1) if not isinstance(row, dict)), None)
    if bad is not None:
        raise ValueError(f"{file}: {what} {bad} is {type(rows[bad - 1]).__name__}, not an object (a row of columns).")
    return rows


def _read_parquet(file: Path) -> Dataset:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    with file.open("rb") as handle:
        head = handle.read(4)
        handle.seek(-4 if file.stat().st_size >= 8 else 0, 2)
        tail = handle.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        raise ValueError(f"{file} is not a Parquet file (or it was cut off): write it again with Dataset.to_parquet.")
    try:
        table = pq.read_table(file)
    except (pa.ArrowException, OSError) as error:
        raise ValueError(
            f"{file} cannot be read as Parquet ({error}); write it again with Dataset.to_parquet."
        ) from None
    if table.num_rows == 0:
        raise ValueError(f"{file} holds no rows.")
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count:
            row = next(i for i, value in enumerate(column.to_pylist()) if value is None)
            raise ValueError(f"{file}: column {name!r} is empty in row {row}; fill it in or remove the row.")
    return Dataset(table)


def read_file(path: str | Path) -> Dataset:
    """Read a local data file into a ``Dataset``: JSON (an array, or one object a line), CSV, TSV or Parquet.

    The file is checked as it is read, and what a reader would refuse with a library error is
    refused here with one ``ValueError`` naming the file, the line or row, and the fix: an empty
    file, a header without rows, a line with too many or too few fields, a quote left open, text
    that is not UTF-8 (UTF-16, Latin-1), a compressed or binary file, invalid JSON, rows with other
    keys, empty cells, or a column of mixed kinds. A UTF-8 byte-order mark and CRLF line ends are
    fine. CSV/TSV cells are read as int, float or text, as pandas would.

    Args:
        path: the file; its suffix picks the reader.

    Returns:
        The rows, with the file's own columns.

    Raises:
        ValueError: what is wrong with the file, and how to fix it.
    """
    from datasets import Dataset

    file = Path(path).expanduser()
    check_source(str(file), name="path")
    if not file.is_file():
        raise ValueError(f"path {str(file)!r} does not exist.")
    suffix = file.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(file)
    rows = (
        _read_json(file) if suffix in (".json", ".jsonl") else _read_delimited(file, "\t" if suffix == ".tsv" else ",")
    )
    first = 2 if suffix in (".csv", ".tsv") else 1
    check_rows(rows, file.name, first_row=first)
    try:
        return Dataset.from_list(rows)
    except (TypeError, ValueError, OverflowError) as error:  # pyarrow's own refusals (e.g. nested mixed types)
        raise ValueError(f"{file}: the rows cannot be stored as a table ({type(error).__name__}: {error}).") from None


def read_stsb_tsv(path: str | Path) -> dict[str, list[Any]]:
    """Read an STS-benchmark file (e.g. ``sts-test.csv``): tab-separated, no header.

    Columns (1-based): 5 is the gold score 0-5, 6 and 7 the two sentences; some rows carry extra
    trailing columns (sources), which are ignored. Quotes are plain characters (``QUOTE_NONE``).

    Args:
        path: the file.

    Returns:
        ``{"sentence1": [...], "sentence2": [...], "score": [...]}`` with scores 0-5.

    Raises:
        TypeError: not a path.
        FileNotFoundError: no such file.
        ValueError: a folder, text that is not UTF-8, a compressed or binary file, a row with fewer
            than 7 columns, a non-numeric, NaN or out-of-range score, or an empty file (the message
            names the line).
    """
    if not isinstance(path, str | Path) or not str(path).strip():
        raise TypeError(f"path must be the path of an STS-benchmark TSV file (a str or Path), not {path!r}.")
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass the STS-benchmark TSV file in it (such as sts-test.csv).")
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist. Pass the path of an STS-benchmark TSV file (such as sts-test.csv "
            "from stsbenchmark.tar.gz), or use stutor.data.load_stsb() for the Hub version."
        )
    columns: dict[str, list[Any]] = {"sentence1": [], "sentence2": [], "score": []}
    if not path.read_bytes().strip():
        raise ValueError(f"{path} holds no rows: pass a non-empty STS-benchmark file.")
    reader = csv.reader(io.StringIO(_text_of(path), newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    for line, row in enumerate(reader, start=1):
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
        kind is refused (:func:`check_source`), never replaced by other data, and so is a Hub
        name the Hub answers it does not have.

    Raises:
        ValueError: a bad local path, a Hub name the Hub does not know, or something that is
            neither a file nor a Hub name.
    """
    from datasets import load_dataset

    from stutor.models import hub_status

    check_source(source, name="source", example=hub_name)
    path = Path(source).expanduser()
    if path.is_file():
        return read_file(path)
    status = hub_status(str(source), repo_type="dataset")
    if status == "missing":  # the Hub answered: a typo is refused, never replaced by the bundled data
        raise ValueError(
            f"The Hugging Face Hub has no data set named {str(source)!r} (or it is private); check the spelling, "
            f"e.g. {hub_name!r}."
        )
    if status != "found":
        return None
    return load_dataset(str(source), split=split)


def load_training_rows(
    source: str | Path, *, schema: str | None = None, split: str = "train", label_column: str | None = None
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
        label_column: for text classification data with several integer label columns (TREC's
            ``coarse_label`` and ``fine_label``), the one to train on.

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
                    f"{source}: not in the trainer's layout ({layout_error}) "
                    f"and not a known raw schema ({schema_error})"
                ) from None
            if label_column is not None:
                raise ValueError(
                    f"label_column={label_column!r} picks the label of text classification data (a 'text' column "
                    f"and integer label columns), but {source} is already in the trainer's layout: {report}"
                ) from None
            return _layout(raw, report)
    options = {} if label_column is None else {"label_column": label_column}
    if options and schema != "text_classification":
        raise ValueError(
            f"label_column={label_column!r} picks the label of text classification data, but {source} is in the "
            f"{schema} schema; drop it."
        )
    return _layout(*schemas.convert_checked(raw, schema, **options))


def _layout(rows: Dataset, report: cases.CaseReport) -> tuple[Dataset, cases.CaseReport]:
    """Keep only the columns the trainer reads (it reads them by position)."""
    columns = list(report.text_columns) + ([report.label_column] if report.label_column else [])
    return (rows if rows.column_names == columns else rows.select_columns(columns)), report
