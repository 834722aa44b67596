"""Network Playground page (pages/network.py) under Streamlit's AppTest."""
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from vizgrad.net.config import NetConfig, to_query

ROOT = Path(__file__).resolve().parents[1]


def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/network.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stats(at) -> dict:
    """The numbers above the network: {'Step': 0, 'Test loss': 0.7064, ...}."""
    (block,) = [h for h in at.get("html") if "nw-stats" in h.proto.body]
    vals = dict(re.findall(r'data-stat="([^"]+)"[^>]*>([^<]*)<', block.proto.body))
    return {k: float(v.replace(",", "").rstrip("%")) for k, v in vals.items()}


def config(at) -> NetConfig:
    return at.session_state["nw_trainer"].config


@pytest.fixture(scope="module")
def page():
    return open_page()


def test_page_opens_with_the_default_network(page):
    at = page
    assert at.title[0].value == "Network Playground"
    s = stats(at)
    assert s["Step"] == 0 and 0.5 < s["Test loss"] < 1.0 and "Test accuracy" in s
    assert config(at).hidden == (8, 8) and config(at).dataset == "circles"
    assert [b.label for b in at.get("download_button")] == ["PyTorch code (.py)", "Weights (.json)",
                                                            "Loss curve (.csv)"]
    assert at.query_params["data"] == "circles" and at.query_params["hidden"] == "8,8"
    assert any("autograd graph" in s.value for s in at.subheader)


def test_step_advances_and_changes_the_loss():
    at = open_page()
    before = stats(at)
    at.button(key="nw_step").click().run()
    after = stats(at)
    assert after["Step"] == before["Step"] + 1
    assert after["Training loss"] != before["Training loss"]
    for _ in range(3):
        at.button(key="nw_step").click().run()
    assert stats(at)["Step"] == 4
    at.button(key="nw_reset").click().run()
    assert stats(at)["Step"] == 0 and stats(at)["Training loss"] == before["Training loss"]
    assert not at.exception


def test_changing_the_configuration_rebuilds_the_network():
    at = open_page()
    at.button(key="nw_step").click().run()
    at.selectbox(key="nw_dataset").select("xor").run()
    assert config(at).dataset == "xor" and stats(at)["Step"] == 0
    assert at.query_params["data"] == "xor"
    at.slider(key="nw_depth").set_value(3).run()
    assert len(config(at).hidden) == 3
    at.number_input(key="nw_units_2").set_value(5).run()
    at.selectbox(key="nw_act_2").select("relu").run()
    assert config(at).hidden == (8, 8, 5) and config(at).activation == ("tanh", "tanh", "relu")
    assert at.query_params["hidden"] == "8,8,5" and at.query_params["act"] == "tanh,tanh,relu"
    at.selectbox(key="nw_dataset").select("plane").run()          # regression: the loss follows
    assert config(at).loss == "mse" and "Test accuracy" not in stats(at)
    at.selectbox(key="nw_dataset").select("spiral").run()
    at.slider(key="nw_classes").set_value(3).run()
    assert config(at).loss == "cross_entropy" and config(at).n_classes == 3
    assert not at.exception


def test_a_link_reproduces_the_run():
    cfg = NetConfig(dataset="gauss", noise=0.2, features=("x1", "x2", "x1x2"), hidden=(4, 3),
                    activation=("relu", "leaky_relu"), optimizer="adam", lr=0.01, batch_size=5,
                    regularization="l2", reg_rate=0.003, seed=7)
    at = open_page(to_query(cfg))
    assert config(at) == cfg
    assert not at.error
    for _ in range(2):
        at.button(key="nw_step").click().run()
    first = stats(at)
    again = open_page(to_query(cfg))           # a second visitor with the same link
    for _ in range(2):
        again.button(key="nw_step").click().run()
    assert stats(again) == first


def test_a_bad_link_shows_a_message_and_the_default_network():
    at = open_page({"hidden": "8,oops", "lr": "-1"})
    assert not at.exception
    assert any("link" in e.value and "hidden" in e.value for e in at.error)
    assert config(at) == NetConfig()
    at2 = open_page({"data": "nope"})
    assert any("data" in e.value for e in at2.error) and not at2.exception


def test_divergence_stops_playing_and_names_the_op():
    at = open_page(to_query(NetConfig(lr=10.0, activation="relu", loss="mse")))
    at.session_state["nw_steps"] = 50
    at.button(key="nw_play").click().run()           # Play: the live panel trains until it diverges
    tr = at.session_state["nw_trainer"]
    assert tr.diverged and at.session_state["nw_playing"] is False
    shown = " ".join(e.value for e in at.error)
    assert "diverged" in shown and tr.diverged_op in shown
    assert at.button(key="nw_play").disabled and not at.exception
    at.button(key="nw_reset").click().run()
    assert stats(at)["Step"] == 0 and not at.session_state["nw_trainer"].diverged


def test_an_invalid_choice_is_reported_not_raised():
    at = open_page()
    at.session_state["nw_features"] = []
    at.run()
    assert not at.exception
    assert any("feature" in e.value for e in at.error)


# ---- untrusted text (issue 11): URL values, an upload's name and content are shown literally --------------
PAYLOADS = [":red[**X**]", "[a](https://evil.example)", "![i](https://evil.example/i.png)",
            "<img src=x onerror=alert(1)>", "$\\href{https://evil.example}{x}$"]
MARKERS = ("red[", "**X**", "evil.example", "onerror", "href")   # any of these: the element shows a payload
MD_SPECIAL = r"[!-/:-@\[-`{-~]"                                  # what pages._common.plain escapes
MD_ELEMENTS = {"markdown", "caption", "error", "info", "warning", "success", "title", "header", "subheader"}


def unescape(md: str) -> str:
    """The text a fully backslash-escaped markdown string shows (less plain()'s invisible joiners)."""
    return re.sub(r"\\(" + MD_SPECIAL + ")", r"\1", md).replace("\u2060", "")


def unescaped_part(md: str) -> str:
    """md without its backslash-escaped characters: what markdown would still interpret."""
    return re.sub(r"\\" + MD_SPECIAL, "", md)


def strings(msg):
    """Every string field of a protobuf message, with its field name, recursively."""
    for fd, v in msg.ListFields():
        for item in (v if isinstance(v, Sequence) and not isinstance(v, str) else [v]):
            if isinstance(item, str):
                yield fd.name, item
            elif hasattr(item, "ListFields"):
                yield from strings(item)


def elements(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from elements(child)


def assert_shown_literally(at) -> list[str]:
    """Every element whose text carries a payload shows it as escaped markdown (and nothing else
    carries one: not a chart, an html block, an option list); returns those markdown bodies."""
    assert not at.exception, [e.value for e in at.exception]
    shown = []
    for el in elements(at._tree):
        proto = getattr(el, "proto", None)
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        for field, text in strings(proto):
            if not any(m in unescape(text) for m in MARKERS):
                continue
            markdown = el.type in MD_ELEMENTS and field == "body" or field in ("label", "help")
            assert markdown, (el.type, field, text)
            bare = unescaped_part(text)
            assert not re.search(MD_SPECIAL, bare), (el.type, text)       # every special character escaped
            for seq in ("](", ":red[", "$", "<", "**"):
                assert seq not in bare, (seq, text)
            shown.append(text)
    return shown


@pytest.mark.parametrize("param", list(to_query(NetConfig())))
def test_url_values_are_shown_as_plain_text(param):
    from vizgrad.app.markdown import plain
    from vizgrad.net.config import ConfigError, from_query
    for payload in PAYLOADS:
        with pytest.raises(ConfigError) as err:
            from_query({param: payload})
        at = open_page({param: payload})
        expected = plain(f"This link could not be used, so the default network is shown. {err.value}")
        assert [e.value for e in at.error] == [expected], (param, payload)
        assert unescape(expected).endswith(str(err.value))               # shown: the message as written
        assert assert_shown_literally(at) == [expected], (param, payload)
        assert config(at) == NetConfig()


class FakeUpload:
    def __init__(self, name: str, data: bytes):
        self.name, self._data = name, data

    def getvalue(self) -> bytes:
        return self._data


def open_with_upload(monkeypatch, name: str, data: bytes) -> AppTest:
    import streamlit
    monkeypatch.setattr(streamlit, "file_uploader", lambda *a, **k: FakeUpload(name, data))
    return open_page({"data": "csv"})


@pytest.mark.parametrize("payload", PAYLOADS)
def test_an_uploads_name_and_content_are_shown_as_plain_text(monkeypatch, payload):
    from vizgrad.app.markdown import plain
    from vizgrad.net.datasets import DataError
    from vizgrad.net.upload import load_csv
    name = payload + ".csv"
    data = f"x1,x2,label\n{payload},0,1\n1,1,0\n2,2,1\n3,3,0\n".encode()
    with pytest.raises(DataError) as err:        # as the page parses it
        load_csv(data, kind="auto", max_rows=2000, max_classes=10, train_ratio=0.5, seed=0, name=name)
    at = open_with_upload(monkeypatch, name, data)
    assert [e.value for e in at.error] == [plain(f"{name}: {err.value}")]
    assert [i.value for i in at.info] == [plain(f"The uploaded file cannot be used ({err.value}). Fix it and "
                                                "upload it again.")]
    assert len(assert_shown_literally(at)) == 2
    # a good file with a hostile name: the name is not shown anywhere unescaped
    good = "x1,x2,label\n0,0,0\n1,1,1\n2,0,0\n0,2,1\n3,3,0\n-1,2,1\n".encode()
    at = open_with_upload(monkeypatch, name, good)
    assert not at.error and at.session_state["nw_trainer"].config.dataset == "csv"
    assert_shown_literally(at)


def step_graph_nodes(at) -> list:
    """The node ids drawn in the step graph (its trace "nodes" carries them as customdata)."""
    import json
    for chart in at.get("plotly_chart"):
        for t in json.loads(chart.proto.spec)["data"]:
            if t.get("name") == "nodes":
                return list(t["customdata"])
    raise AssertionError("no step graph on the page")


def test_the_step_graph_opens_at_its_layers_and_a_box_opens():
    at = open_page()
    nodes = step_graph_nodes(at)
    assert {"m:0", "m:2", "m:4"} <= set(nodes)                 # the three Linear layers as boxes
    assert at.button(key="nw_lod_undo").disabled and at.button(key="nw_lod_reset").disabled
    # a click on a box (the callback's effect: the browser test clicks it for real)
    at.session_state["nw_lod_back"] = [None]
    at.session_state["nw_lod_open"] = frozenset(at.session_state["nw_lod_shown"][1]) | {"m:0"}
    at.run()
    opened = step_graph_nodes(at)
    assert "m:0" not in opened and len(opened) > len(nodes) and "m:2" in opened
    at.button(key="nw_lod_undo").click().run()
    assert step_graph_nodes(at) == nodes and not at.exception


# ---- training settings change the running network (issue 17) -----------------------------------------------
def test_changing_the_learning_rate_batch_or_regularization_keeps_the_weights():
    at = open_page()
    for _ in range(3):
        at.button(key="nw_step").click().run()
    tr = at.session_state["nw_trainer"]
    values = [p._data.copy() for p in tr.params]
    at.button(key="nw_play").click().run()                      # playing: the change lands mid-run
    steps = tr.steps
    at.selectbox(key="nw_lr").select(0.3).run()
    assert at.session_state["nw_trainer"] is tr and at.session_state["nw_playing"] is True
    assert tr.config.lr == 0.3 and tr.optimizer.param_groups[0]["lr"] == 0.3 and at.query_params["lr"] == "0.3"
    assert tr.steps > steps and stats(at)["Step"] == tr.steps   # the same run went on
    at.button(key="nw_play").click().run()                      # pause
    steps = tr.steps
    at.number_input(key="nw_batch").set_value(25).run()
    at.selectbox(key="nw_reg").select("l2").run()
    at.selectbox(key="nw_reg_rate").select(0.01).run()
    assert at.session_state["nw_trainer"] is tr and tr.steps == steps == stats(at)["Step"]
    assert (tr.batch_size, tr.config.regularization, tr.config.reg_rate) == (25, "l2", 0.01)
    assert not all(np.array_equal(p._data, v) for p, v in zip(tr.params, values))
    at.selectbox(key="nw_dataset").select("xor").run()          # new data: a new network
    assert at.session_state["nw_trainer"] is not tr and stats(at)["Step"] == 0
    tr2 = at.session_state["nw_trainer"]
    at.slider(key="nw_depth").set_value(1).run()                # a new architecture: a new network too
    assert at.session_state["nw_trainer"] is not tr2 and not at.exception
