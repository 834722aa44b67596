"""Issue 11 (part 4, the Walkthrough): the finite-difference check makes a bounded number of
evaluations per walk, on a deterministic sample beyond the bound, and says so."""
import numpy as np
import pytest

from vizgrad.app import walkthrough as ws

N_VARS, N_ELEMS = 64, 64     # the 17 KB link: 64 variables of 64 elements, 8,192 evaluations before


def many_variables(n_vars=N_VARS, n_elems=N_ELEMS):
    names = [f"v{i}" for i in range(n_vars)]
    query = {"expr": " + ".join(f"sum({n}*{n})" for n in names)}
    query.update({f"v.{n}": "[" + ",".join(str((i + j) % 9 - 4) for j in range(n_elems)) + "]"
                  for i, n in enumerate(names)})
    return query


def counted(src, limit):
    """src with its function wrapped: counts calls, and fails past `limit` (so a test never runs 8,192)."""
    calls = []
    f = src.f

    def g(vals):
        calls.append(1)
        if len(calls) > limit:
            raise RuntimeError("over the evaluation budget")
        return f(vals)
    src.f = g
    return src, calls


def test_evaluations_are_bounded_per_walk_not_per_leaf():
    budget = getattr(ws, "MAX_FD_EVALUATIONS", 512)
    src, calls = counted(ws.from_query(many_variables()), budget)
    w = ws.prepare(src)
    assert w.ok, w.error
    assert len(calls) <= budget and w.fd_evaluations == len(calls)
    per = ws.MAX_FD_EVALUATIONS // 2 // N_VARS
    assert [c.fd_checked for c in w.checks] == [per] * N_VARS
    assert all(c.matches_numeric for c in w.checks) and w.all_match
    assert {r["finite differences"] for r in w.comparison} == {f"sampled {per} of {N_ELEMS} elements"}
    assert f"sampled {per * N_VARS:,} of {N_VARS * N_ELEMS:,} elements" in w.fd_note


def test_the_sample_is_deterministic_and_compared_only_where_computed():
    a = ws.prepare(ws.from_query(many_variables(4, 500)))
    b = ws.prepare(ws.from_query(many_variables(4, 500)))
    assert all(0 < c.fd_checked < c.fd_elements for c in a.checks)
    for ca, cb in zip(a.checks, b.checks):
        np.testing.assert_array_equal(np.isnan(ca.numeric), np.isnan(cb.numeric))
        done = ~np.isnan(ca.numeric)
        assert done.sum() == ca.fd_checked
        np.testing.assert_allclose(ca.numeric[done], np.asarray(ca.walkthrough)[done], rtol=1e-2, atol=0.1)
        assert ca.matches_numeric


def test_small_leaves_are_checked_whole_and_the_rest_of_the_budget_goes_to_the_big_ones():
    query = {"expr": "sum(a*b) + c", "v.a": "[" + ",".join(["1"] * 1000) + "]",
             "v.b": "[" + ",".join(["2"] * 1000) + "]", "v.c": "3"}
    w = ws.prepare(ws.from_query(query))
    checked = {c.label: (c.fd_checked, c.fd_elements) for c in w.checks}
    half = (ws.MAX_FD_EVALUATIONS // 2 - 1) // 2
    assert checked["c"] == (1, 1)
    assert sorted([checked["a"][0], checked["b"][0]]) == [half, ws.MAX_FD_EVALUATIONS // 2 - 1 - half]
    assert w.all_match and w.fd_evaluations <= ws.MAX_FD_EVALUATIONS
    rows = {r["tensor"]: r["finite differences"] for r in w.comparison}
    assert rows["c"] == "1" and rows["a"].startswith("sampled ") and rows["a"].endswith(" of 1000 elements")


def test_evaluations_are_also_bounded_by_the_work_they_do():
    query = {"expr": "sum(tanh(x) * x + x)", "v.x": "outer([" + ",".join(["0.5"] * 200) + "], ["
             + ",".join(["0.25"] * 200) + "])"}          # 40,000 elements: each evaluation recomputes the graph
    src, calls = counted(ws.from_query(query), ws.MAX_FD_EVALUATIONS)
    w = ws.prepare(src)
    assert w.ok, w.error
    assert 0 < len(calls) <= ws.MAX_FD_WORK // w.size.forward < ws.MAX_FD_EVALUATIONS
    assert w.all_match and "sampled" in w.fd_note


def test_a_small_graph_is_checked_whole():
    w = ws.prepare(ws.from_query({"expr": "x**2 + y**3", "v.x": "2", "v.y": "3"}))
    assert w.fd_evaluations == 4 and w.fd_note == ""
    assert [(c.fd_checked, c.fd_elements) for c in w.checks] == [(1, 1), (1, 1)]


@pytest.mark.parametrize("sizes,budget,expected", [([1, 1000, 1000], 255, [1, 127, 127]),
                                                   ([5, 5], 100, [5, 5]), ([10] * 4, 2, [0, 0, 1, 1]),
                                                   ([], 10, [])])
def test_fd_shares(sizes, budget, expected):
    got = ws.fd_shares(sizes, budget)
    assert sorted(got) == sorted(expected) and sum(got) <= budget
    assert all(0 <= g <= s for g, s in zip(got, sizes))


def test_fd_sample():
    np.testing.assert_array_equal(ws.fd_sample(5, 9), np.arange(5))
    s = ws.fd_sample(10_000, 7)
    assert len(set(s.tolist())) == 7 and list(s) == sorted(s) and s.max() < 10_000
    np.testing.assert_array_equal(s, ws.fd_sample(10_000, 7))
