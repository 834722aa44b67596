"""A user's own data: the CSV upload parser (rows `x1, x2, label`) for the Network Playground.

    ds = load_csv(uploaded_bytes, kind="auto")      # a Dataset; DataError names the line and column

Built for hostile uploads: no regex, no eval; nothing looks at more than MAX_FIELD characters of a
field or MAX_LINE characters of a line, so parsing is linear in the file's size.
"""
from __future__ import annotations

import csv
import math

import numpy as np

from vizgrad.net.datasets import Dataset, DataError, check_number, finish_dataset

__all__ = ["load_csv", "MAX_FIELD", "MAX_LINE"]


# Limits that keep a hostile upload cheap: nothing below looks at more than MAX_FIELD characters of
# a field or MAX_LINE characters of a line, so parsing is linear in the file's size.
MAX_FIELD = 40           # "-1.2345678901234567e+308" is 24: longer is not a number a person typed
MAX_LINE = 3 * MAX_FIELD + 40
_NUMBER_CHARS = frozenset("0123456789+-.eE")
_NONFINITE = frozenset(s + w for s in ("", "+", "-") for w in ("nan", "inf", "infinity"))
_COLS = ("x1", "x2", "label")


def _is_number(t: str) -> bool:
    """A plain decimal number: digits, one optional sign, point and exponent (no regex, no
    underscores, hex, nan/inf or spaces; float() decides the grammar once the characters are right)."""
    if not t or len(t) > MAX_FIELD or not _NUMBER_CHARS.issuperset(t):
        return False
    try:
        float(t)
    except ValueError:
        return False
    return True


def _looks_numeric(s: str) -> bool:
    t = s.strip()
    return _is_number(t) or t.lower() in _NONFINITE


def _shown(t: str) -> str:
    return repr(t if len(t) <= 30 else t[:27] + "...")


def _parse_number(s: str, line: int, col: int, colname: str) -> float:
    t = s.strip()
    where = f"line {line}, column {col} ({colname})"
    if t == "":
        raise DataError(f"{where}: empty value")
    if len(t) > MAX_FIELD:
        raise DataError(f"{where}: the value is too long ({len(t):,} characters; a number has at most "
                        f"{MAX_FIELD})")
    if t.lower() in _NONFINITE:
        raise DataError(f"{where}: {t!r} is not a finite number (NaN and inf are not allowed)")
    if not _is_number(t):
        raise DataError(f"{where}: {_shown(t)} is not a number")
    v = float(t)
    if not math.isfinite(v) or abs(v) > 3.0e38:
        raise DataError(f"{where}: {t!r} is too large (does not fit float32)")
    return v


def _decode(data) -> str:
    if isinstance(data, str):
        text = data
    elif isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if b"\x00" in raw[:4096]:
            raise DataError("the file looks like binary data (it contains NUL bytes); upload a plain-text CSV")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[:e.start].count(b"\n") + 1
            raise DataError(f"line {line}: the file is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                            f"{e.start}); save it as UTF-8 CSV") from None
    else:
        raise DataError(f"expected CSV text or bytes, got {type(data).__name__}")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise DataError("the file looks like binary data (it contains NUL characters); upload a plain-text CSV")
    return text


def _delimiter(line: str) -> str | None:
    for d in (",", ";", "\t"):
        if d in line:
            return d
    return None  # whitespace-separated


def _fields(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    return next(csv.reader([line], delimiter=delim, skipinitialspace=True))


def load_csv(data, kind: str = "classification", max_rows: int = 5000, max_classes: int = 2,
             train_ratio: float = 0.5, seed: int = 0, name: str = "csv", max_bytes: int = 2_000_000) -> Dataset:
    """Parse an uploaded CSV of rows `x1, x2, label` into a Dataset (shuffled, split by train_ratio).

    - a header line is optional (a first line with no numeric field is taken as the header);
    - separators: comma, semicolon, tab or whitespace (taken from the first line); blank lines and
      lines starting with '#' are skipped;
    - kind="classification": labels are integers; with max_classes=2 they must be 0 or 1; with
      max_classes=k they must be 0..k-1 and at least two classes must be present;
      kind="regression": any finite number; kind="auto": classification if every label is an
      integer in 0..max_classes-1, else regression.
    Any problem raises DataError naming the line (1-based, as in an editor) and column.
    Values are parsed with a strict number pattern: nothing is ever evaluated."""
    if kind not in ("classification", "regression", "auto"):
        raise DataError(f"kind must be 'classification', 'regression' or 'auto', got {kind!r}")
    if isinstance(data, (bytes, bytearray, memoryview)) and len(data) > max_bytes:
        raise DataError(f"the file is too large ({len(data):,} bytes; the limit is {max_bytes:,})")
    text = _decode(data)
    if len(text) > max_bytes:
        raise DataError(f"the file is too large ({len(text):,} characters; the limit is {max_bytes:,})")
    lines = text.splitlines()
    content = [(i + 1, ln) for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        raise DataError("the file is empty (no data rows)")
    delim = _delimiter(content[0][1])
    rows: list[tuple[float, float, float]] = []
    header_line = None
    for k, (lineno, ln) in enumerate(content):
        if len(ln) > MAX_LINE:
            raise DataError(f"line {lineno}: the line is too long ({len(ln):,} characters; a row x1, x2, label "
                            f"has at most {MAX_LINE})")
        try:
            f = _fields(ln, delim)
        except csv.Error as e:
            raise DataError(f"line {lineno}: cannot parse the line ({e})") from None
        if k == 0 and f and not any(_looks_numeric(s) for s in f):
            header_line = lineno
            if len(f) != 3:
                raise DataError(f"line {lineno} (header): expected 3 columns (x1, x2, label), found {len(f)}")
            continue
        if len(f) != 3:
            sep = {",": "commas", ";": "semicolons", "\t": "tabs", None: "spaces"}[delim]
            raise DataError(f"line {lineno}: expected 3 columns (x1, x2, label), found {len(f)} "
                            f"(columns separated by {sep})")
        if len(rows) >= max_rows:
            raise DataError(f"line {lineno}: too many rows; the limit is {max_rows:,} data rows")
        rows.append(tuple(_parse_number(s, lineno, j + 1, _COLS[j]) for j, s in enumerate(f)))
    if not rows:
        raise DataError(f"the file has a header (line {header_line}) but no data rows")
    if len(rows) < 4:
        raise DataError(f"too few data rows ({len(rows)}); at least 4 are needed to train and test")
    arr = np.array(rows, dtype=np.float64)
    x, y = arr[:, :2], arr[:, 2]
    data_lines = [ln for ln, _ in content if ln != header_line]

    if kind == "auto":
        ok = np.all(y == np.round(y)) and y.min() >= 0 and y.max() < max(max_classes, 2)
        kind = "classification" if ok and len(np.unique(y)) >= 2 else "regression"
    if kind == "classification":
        for i, v in enumerate(y):
            line = data_lines[i]
            if v != round(v):
                raise DataError(f"line {line}, column 3 (label): {v:g} is not a class label; labels must be "
                                + ("0 or 1" if max_classes <= 2 else f"integers 0..{max_classes - 1}"))
            if max_classes <= 2 and v not in (0, 1):
                raise DataError(f"line {line}, column 3 (label): label {v:g} must be 0 or 1 for classification")
            if v < 0:
                raise DataError(f"line {line}, column 3 (label): label {v:g} is negative; labels are "
                                f"0..{max_classes - 1}")
            if v >= max_classes:
                raise DataError(f"line {line}, column 3 (label): label {v:g} means too many classes; at most "
                                f"{max_classes} classes (labels 0..{max_classes - 1}) are allowed")
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(f"every row has label {classes[0]:g}; classification needs at least two classes")
        n_classes = 2 if max_classes <= 2 or y.max() <= 1 else int(y.max()) + 1
    else:
        n_classes = 0
    check_number("train_ratio", train_ratio, 0.05, 0.95)
    rng = np.random.default_rng(int(seed))
    return finish_dataset(name, kind, n_classes, x, y, 0.0, seed, train_ratio, rng,
                          meta={"source": "csv", "rows": len(rows), "header": header_line is not None})
