"""vizgrad.net datasets, features and upload: the toy datasets, features and the CSV upload parser."""
from __future__ import annotations

import numpy as np
import pytest

from vizgrad.net.datasets import DATASETS, DataError, make_dataset
from vizgrad.net.features import FEATURES, featurize
from vizgrad.net.upload import load_csv

CLASSIFICATION = [n for n, s in DATASETS.items() if s.kind == "classification"]
REGRESSION = [n for n, s in DATASETS.items() if s.kind == "regression"]


# -- generated sets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DATASETS))
@pytest.mark.parametrize("noise", [0.0, 0.25, 0.5])
def test_dataset_shapes_types_ranges(name, noise):
    ds = make_dataset(name, n_samples=400, noise=noise, train_ratio=0.7, seed=3)
    assert ds.name == name and ds.noise == noise and ds.seed == 3
    d = 1 if name == "sine" else 2
    assert ds.x_train.shape == (280, d) and ds.x_test.shape == (120, d)
    assert ds.y_train.shape == (280,) and ds.y_test.shape == (120,)
    assert ds.x_train.dtype == np.float32 and ds.x_test.dtype == np.float32
    assert ds.input_dim == d and ds.n_train == 280 and ds.n_test == 120
    assert np.isfinite(ds.x).all() and np.isfinite(ds.y).all()
    assert np.abs(ds.x).max() <= 6.5 + 4 * noise * 2  # Playground's plane is about [-6, 6]
    if ds.kind == "classification":
        assert ds.n_classes == 2 and ds.y.dtype == np.float32
        assert set(np.unique(ds.y)) == {0.0, 1.0}
    else:
        assert ds.n_classes == 0 and ds.y.dtype == np.float32


@pytest.mark.parametrize("name", ["spiral", "blobs"])
@pytest.mark.parametrize("k", [3, 5])
def test_multiclass(name, k):
    ds = make_dataset(name, n_samples=300, n_classes=k, seed=1)
    assert ds.kind == "classification" and ds.n_classes == k and ds.y.dtype == np.int64
    assert sorted(np.unique(ds.y)) == list(range(k))
    assert np.bincount(ds.y).min() >= 300 // k - 1


@pytest.mark.parametrize("name", list(DATASETS))
def test_deterministic_and_seeded(name):
    a = make_dataset(name, seed=7, noise=0.1)
    b = make_dataset(name, seed=7, noise=0.1)
    c = make_dataset(name, seed=8, noise=0.1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_playground_semantics():
    ds = make_dataset("circles", n_samples=1000, noise=0.0)
    r = np.hypot(ds.x[:, 0], ds.x[:, 1])
    assert np.all((r < 2.5) == (ds.y == 1))
    ds = make_dataset("xor", n_samples=1000, noise=0.0)
    assert np.all((ds.x[:, 0] * ds.x[:, 1] >= 0) == (ds.y == 1)) and np.abs(ds.x).min() >= 0.3
    ds = make_dataset("plane", n_samples=200)
    np.testing.assert_allclose(ds.y, ds.x.sum(1) / 10, rtol=1e-5, atol=1e-6)
    ds = make_dataset("sine", n_samples=200)
    np.testing.assert_allclose(ds.y, np.sin(ds.x[:, 0]), atol=1e-6)
    ds = make_dataset("bump", n_samples=500)
    assert ds.y.min() >= -1 and ds.y.max() <= 1 and ds.y.std() > 0.1
    # noise flips labels near the circle boundary
    noisy = make_dataset("circles", n_samples=1000, noise=0.5)
    assert np.any((np.hypot(*noisy.x.T) < 2.5) != (noisy.y == 1))


def test_aliases_and_split_ratio():
    assert make_dataset("circle").name == "circles"
    assert make_dataset("reg-gauss").name == "bump"
    ds = make_dataset("gauss", n_samples=101, train_ratio=0.3)
    assert ds.n_train == 30 and ds.n_test == 71


@pytest.mark.parametrize("kwargs, msg", [
    ({"name": "nope"}, "unknown dataset 'nope'"),
    ({"name": "xor", "noise": 0.9}, "noise must be between 0.0 and 0.5"),
    ({"name": "xor", "noise": float("nan")}, "noise"),
    ({"name": "xor", "train_ratio": 1.0}, "train_ratio"),
    ({"name": "xor", "n_samples": 2}, "n_samples"),
    ({"name": "xor", "n_samples": 10.5}, "n_samples must be an integer"),
    ({"name": "xor", "n_samples": 5000, "max_samples": 1000}, "n_samples must be between 4 and 1000"),
    ({"name": "xor", "n_classes": 3}, "only for spiral and blobs"),
    ({"name": "spiral", "n_classes": 1}, "n_classes"),
    ({"name": "xor", "seed": -1}, "seed"),
    ({"name": "xor", "noise": "0.1"}, "noise must be a number"),
])
def test_make_dataset_errors(kwargs, msg):
    with pytest.raises(DataError, match=msg.replace("(", r"\(").replace(".", r"\.")):
        make_dataset(**kwargs)


# -- features ---------------------------------------------------------------------------------------
def test_featurize_values_and_order():
    x = np.array([[1.0, 2.0], [-0.5, 3.0]], dtype=np.float32)
    f = featurize(x, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    assert f.dtype == np.float32 and f.shape == (2, 7)
    expect = np.array([[1, 2, 1, 4, 2, np.sin(1), np.sin(2)], [-0.5, 3, 0.25, 9, -1.5, np.sin(-0.5), np.sin(3)]])
    np.testing.assert_allclose(f, expect, rtol=1e-6)
    np.testing.assert_array_equal(featurize(x, ["x2", "x1"]), x[:, ::-1])
    assert set(FEATURES) == {"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"}
    for name, fn in FEATURES.items():
        assert fn(x).shape == (2,)


def test_featurize_errors():
    x = np.zeros((3, 2), np.float32)
    with pytest.raises(DataError, match="unknown feature 'x3'"):
        featurize(x, ["x1", "x3"])
    with pytest.raises(DataError, match="at least one"):
        featurize(x, [])
    with pytest.raises(DataError, match="twice"):
        featurize(x, ["x1", "x1"])
    with pytest.raises(DataError, match="needs a second input column"):
        featurize(np.zeros((3, 1)), ["x1", "sinx2"])
    np.testing.assert_array_equal(featurize(np.ones((3, 1)), ["x1", "x1sq"]), np.ones((3, 2)))
    with pytest.raises(DataError, match="shape"):
        featurize(np.zeros((3, 3)), ["x1"])


# -- CSV --------------------------------------------------------------------------------------------
GOOD = "x1,x2,label\n0.5,1.5,1\n-1,2e-1,0\n3,-4,1\n.5,+2.,0\n"


def test_csv_good_with_header():
    ds = load_csv(GOOD, train_ratio=0.5, seed=0)
    assert ds.kind == "classification" and ds.n_classes == 2 and ds.name == "csv"
    assert ds.n_train == 2 and ds.n_test == 2 and ds.meta["header"] is True and ds.meta["rows"] == 4
    rows = sorted(map(tuple, np.column_stack([ds.x, ds.y]).tolist()))
    assert rows == sorted([(0.5, 1.5, 1.0), (-1.0, np.float32(0.2).item(), 0.0), (3.0, -4.0, 1.0), (0.5, 2.0, 0.0)])
    assert ds.x.dtype == np.float32 and ds.y.dtype == np.float32


@pytest.mark.parametrize("text", [
    "0.5,1.5,1\n-1,0.2,0\n3,-4,1\n0.5,2,0\n",                         # no header
    "a;b;c\n0.5;1.5;1\n-1;0.2;0\n3;-4;1\n0.5;2;0\n",                   # semicolons
    "0.5\t1.5\t1\n-1\t0.2\t0\n3\t-4\t1\n0.5\t2\t0\n",                  # tabs
    "0.5 1.5 1\n-1   0.2 0\n3 -4 1\n0.5 2 0\n",                        # whitespace
    "\ufeffx,y,z\r\n0.5, 1.5, 1\r\n\r\n# a comment\r\n-1,0.2,0\r\n3,-4,1\r\n0.5,2,0\r\n",  # BOM, CRLF, blank, comment
    '"x1","x2","y"\n"0.5","1.5","1"\n-1,0.2,0\n3,-4,1\n0.5,2,0\n',   # quoted
])
def test_csv_formats(text):
    ds = load_csv(text)
    assert ds.n_train + ds.n_test == 4
    assert sorted(ds.y.tolist()) == [0, 0, 1, 1]
    ds2 = load_csv(text.encode("utf-8"))
    np.testing.assert_array_equal(ds.x_train, ds2.x_train)


def test_csv_regression_multiclass_auto():
    text = "x1,x2,y\n" + "".join(f"{i},{-i},{i * 0.37}\n" for i in range(10))
    ds = load_csv(text, kind="regression")
    assert ds.kind == "regression" and ds.n_classes == 0 and sorted(ds.y.tolist())[1] == pytest.approx(0.37)
    assert load_csv(text, kind="auto").kind == "regression"
    text3 = "".join(f"{i},{i},{i % 3}\n" for i in range(12))
    ds = load_csv(text3, max_classes=3)
    assert ds.n_classes == 3 and ds.y.dtype == np.int64
    ds = load_csv(text3, kind="auto", max_classes=5)
    assert ds.kind == "classification" and ds.n_classes == 3


def test_csv_row_limit_ok_at_limit():
    text = "".join(f"{i},{i},{i % 2}\n" for i in range(50))
    assert load_csv(text, max_rows=50).n_train == 25


BAD = [
    ("", "the file is empty"),
    ("\n\n  \n", "the file is empty"),
    ("x1,x2,label\n", "has a header (line 1) but no data rows"),
    ("1,2,1\n3,4,0\n", "too few data rows (2)"),
    ("1,2,1\n3,4\n5,6,0\n7,8,1\n", "line 2: expected 3 columns (x1, x2, label), found 2"),
    ("1,2,1\n3,4,0,9\n5,6,0\n7,8,1\n", "line 2: expected 3 columns (x1, x2, label), found 4"),
    ("x1,x2\n1,2\n", "line 1 (header): expected 3 columns"),
    ("1,2,1\n3,abc,0\n5,6,0\n7,8,1\n", "line 2, column 2 (x2): 'abc' is not a number"),
    ("1,2,1\n\n3,4,0\n5,6,zero\n7,8,1\n", "line 4, column 3 (label): 'zero' is not a number"),
    ("1,2,1\n3,,0\n5,6,0\n7,8,1\n", "line 2, column 2 (x2): empty value"),
    ("1,2,1\nnan,4,0\n5,6,0\n7,8,1\n", "line 2, column 1 (x1): 'nan' is not a finite number"),
    ("1,2,1\n3,-inf,0\n5,6,0\n7,8,1\n", "line 2, column 2 (x2): '-inf' is not a finite number"),
    ("1,2,1\n3,4,Infinity\n5,6,0\n7,8,1\n", "line 2, column 3 (label): 'Infinity' is not a finite number"),
    ("1,2,1\n3,1e999,0\n5,6,0\n7,8,1\n", "line 2, column 2 (x2): '1e999' is too large"),
    ("1,2,1\n3,4,0\n5,6,2\n7,8,1\n", "line 3, column 3 (label): label 2 must be 0 or 1"),
    ("1,2,1\n3,4,-1\n5,6,0\n7,8,1\n", "line 2, column 3 (label): label -1 must be 0 or 1"),
    ("1,2,1\n3,4,0.5\n5,6,0\n7,8,1\n", "line 2, column 3 (label): 0.5 is not a class label"),
    ("1,2,1\n3,4,1\n5,6,1\n7,8,1\n", "every row has label 1; classification needs at least two classes"),
    ("1,2,__import__('os')\n3,4,0\n5,6,0\n7,8,1\n", "line 1, column 3 (label): \"__import__('os')\" is not a number"),
    ("1,2,1_0\n3,4,0\n5,6,0\n7,8,1\n", "line 1, column 3 (label): '1_0' is not a number"),
    ("1,2,0x1\n3,4,0\n5,6,0\n7,8,1\n", "'0x1' is not a number"),
]


@pytest.mark.parametrize("text, msg", BAD)
def test_csv_errors(text, msg):
    with pytest.raises(DataError) as e:
        load_csv(text)
    assert msg in str(e.value)


def test_csv_errors_multiclass_and_limits():
    rows = "".join(f"{i},{i},{i % 4}\n" for i in range(12))
    with pytest.raises(DataError, match=r"line 4, column 3 \(label\): label 3 means too many classes; at most 3"):
        load_csv(rows, max_classes=3)
    with pytest.raises(DataError, match=r"line 12: too many rows; the limit is 10 data rows"):
        load_csv("h1,h2,h3\n" + rows, max_rows=10)
    with pytest.raises(DataError, match="too large"):
        load_csv(b"1,2,0\n" * 1000, max_bytes=100)
    with pytest.raises(DataError, match="kind must be"):
        load_csv(rows, kind="clustering")


def test_csv_bad_encoding_and_binary():
    with pytest.raises(DataError, match=r"line 2: the file is not UTF-8 text \(byte 0xff"):
        load_csv(b"1,2,1\n3,4,\xff\n5,6,0\n7,8,1\n")
    with pytest.raises(DataError, match="binary data"):
        load_csv(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DataError, match="binary data"):
        load_csv("1,2,\x001\n")
    with pytest.raises(DataError, match="expected CSV text or bytes"):
        load_csv(12345)


def test_csv_latin1_text_is_rejected_with_line():
    text = "x1,x2,label\n1,2,1\n3,4,0\ncaf\xe9,6,0\n".encode("latin-1")
    with pytest.raises(DataError, match="line 4: the file is not UTF-8"):
        load_csv(text)
    # the same content as UTF-8 decodes, and then the value is reported as not a number
    with pytest.raises(DataError, match=r"line 4, column 1 \(x1\): 'café' is not a number"):
        load_csv(text.decode("latin-1").encode("utf-8"))


# ---- hostile uploads: the parser's work is bounded by the file's size, not by its shape -----------
class _Counting:
    """Wraps vizgrad.net.upload._is_number, the one function that reads a field's characters."""
    def __init__(self, fn):
        self.fn, self.calls, self.chars, self.longest = fn, 0, 0, 0

    def __call__(self, s):
        self.calls += 1
        self.chars += len(s)
        self.longest = max(self.longest, len(s))
        return self.fn(s)


@pytest.fixture
def counting_float(monkeypatch):
    from vizgrad.net import upload as data
    c = _Counting(data._is_number)
    monkeypatch.setattr(data, "_is_number", c)
    return c


@pytest.mark.parametrize("n_digits", [2_000, 8_000, 16_000, 1_000_000])
def test_csv_long_digit_run_is_refused_before_it_is_read(counting_float, n_digits):
    # the upload that froze the server: a long run of digits, then a character no number has
    from vizgrad.net.upload import MAX_LINE
    text = "1" * n_digits + "x 1 0\n1 1 1\n1 1 0\n2 2 1"
    with pytest.raises(DataError, match=rf"line 1: the line is too long \({n_digits + 5:,} characters; .* at most {MAX_LINE}\)"):
        load_csv(text)
    assert counting_float.chars == 0


@pytest.mark.parametrize("delim", [",", ";", "\t", " "])
def test_csv_long_field_names_line_and_column(counting_float, delim):
    from vizgrad.net.upload import MAX_FIELD
    field = "9" * (MAX_FIELD + 1)
    text = delim.join(["1", "2", "1"]) + "\n" + delim.join(["3", field, "0"]) + "\n"
    with pytest.raises(DataError, match=rf"line 2, column 2 \(x2\): the value is too long \({MAX_FIELD + 1} characters"):
        load_csv(text)
    # line 1: one header probe (its first field is a number) and three fields; line 2: x1, then x2 is
    # refused by its length alone
    assert counting_float.calls == 1 + 3 + 1


def test_csv_work_is_linear_in_rows(counting_float):
    # every field at the longest length a number may have: float() reads each character once
    from vizgrad.net.upload import MAX_FIELD
    num = "1." + "2" * (MAX_FIELD - 2)
    rows = 5000
    text = "".join(f"{num},{num},{i % 2}\n" for i in range(rows))
    ds = load_csv(text, max_rows=rows)
    assert ds.n_train + ds.n_test == rows
    assert counting_float.longest <= MAX_FIELD
    assert counting_float.chars <= 3 * MAX_FIELD * (rows + 1)  # each field read once (the first twice)


def test_csv_row_cap_stops_reading(counting_float):
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(100_000))   # ~1.3 MB, 100,000 rows
    with pytest.raises(DataError, match=r"line 5001: too many rows; the limit is 5,000 data rows"):
        load_csv(rows)
    assert counting_float.calls <= 3 * 5001 + 3
