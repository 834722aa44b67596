"""Gradients flowing back, in a real browser: the Walkthrough's "Play the whole backward pass" plays
the backward animation with plotly's own play button; the edges light up in reverse topological
order (read from the frames the page's figure played), and a reused tensor's grad grows to the sum."""
import pytest

from browser_utils import no_exception, shot, wait_idle

SEED = "expr=x**2+%2B+y**3&v.x=2&v.y=3"
FAN_OUT = "expr=a*a+%2B+a&v.a=3"
CHART = '[data-testid="stPlotlyChart"] .js-plotly-plot'
SHOWN = CHART + " >> visible=true"  # a desktop page holds a wide and a narrow copy: the one shown
GD = "[...document.querySelectorAll('%s')].find(e => e.getBoundingClientRect().width > 0)" % CHART

# the figure's own data, read from the plotly graph div: the order badge on every node, and for each
# frame the edge lighting in it and the grads on the nodes
READ = """() => {
  const gd = %s;
  const badge = gd.data.find(t => t.name === 'backward order');
  const frames = gd._transitionData._frames.map(f => {
    const by = n => f.data.find(t => t.name === n);
    return {name: f.name, current: by('current').meta.edges,
            grads: Object.fromEntries(by('node grads').meta.ids.map((id, i) => [id, by('node grads').text[i]]))};
  });
  return {ids: badge.meta.ids, order: badge.text.map(Number), frames: frames, played: window._played || []};
}""" % GD


def open_animation(page, query):
    page.goto(f"{page.app_url}/walkthrough?{query}")
    wait_idle(page)
    page.wait_for_selector(SHOWN)
    page.get_by_text("Play the whole backward pass").click()
    wait_idle(page)
    page.wait_for_function("() => { const gd = %s;"
                           " return gd && gd._transitionData && gd._transitionData._frames.length > 1; }" % GD)
    # record every frame plotly shows while playing
    page.evaluate("() => { window._played = []; %s"
                  ".on('plotly_animatingframe', e => window._played.push(e.name)); }" % GD)


def play_to_the_end(page):
    n = page.evaluate("() => %s._transitionData._frames.length" % GD)
    page.locator(SHOWN).locator(".updatemenu-button").filter(has_text="play").click()
    page.wait_for_function(f"() => (window._played || []).length >= {n - 1}", timeout=30_000)
    page.wait_for_timeout(900)
    return n


def check_reverse_topological(data, edges):
    order = dict(zip(data["ids"], data["order"]))
    assert sorted(order.values()) == list(range(1, len(order) + 1))
    for u, v in edges:
        assert order[v] < order[u], (u, v)
    frames = {f["name"]: f for f in data["frames"]}
    played = [frames[n] for n in data["played"] if frames[n]["current"]]
    assert len(played) == len(data["frames"]) - 1  # every frame with an edge was shown, in turn
    ops = [v if v.startswith("op") else u for f in played for u, v in f["current"]]
    nums = [order[o] for o in ops]
    assert nums == sorted(nums), nums


@pytest.mark.parametrize("query,final", [(SEED, {"x": "grad 4", "y": "grad 27"}), (FAN_OUT, {"a": "grad 7"})],
                         ids=["seed", "fan-out"])
def test_play_backward_lights_edges_in_reverse_topological_order(page, query, final):
    open_animation(page, query)
    labels = page.evaluate("() => %s.data.find(t => t.name === 'nodes')"
                           ".hovertext.map(h => h.match(/<b>(.*?)<\\/b>/)[1])" % GD)
    ids = page.evaluate("() => %s.data.find(t => t.name === 'nodes').customdata" % GD)
    label_of = dict(zip(ids, labels))
    edges = [tuple(e) for e in page.evaluate(
        "() => %s.data.find(t => t.name === 'edges').customdata" % GD)]
    play_to_the_end(page)
    data = page.evaluate(READ)
    check_reverse_topological(data, edges)
    last = data["frames"][-1]["grads"]
    for name, text in final.items():
        tid = next(i for i, lbl in label_of.items() if lbl == name)
        assert last[tid] == text
    # what the page shows now: the last frame's grads drawn as SVG text
    svg = page.evaluate("() => [...(%s).querySelectorAll('svg text')].map(t => t.textContent)" % GD)
    assert all(t in svg for t in final.values()), svg
    # the order numbers are drawn on the nodes
    assert set(map(str, data["order"])) <= set(svg)
    if query == FAN_OUT:
        # a's grad grows: 1 (from the add), then 4, then 7 (the two uses in a*a)
        tid = next(i for i, lbl in label_of.items() if lbl == "a")
        seq = [f["grads"][tid] for f in data["frames"] if f["grads"][tid]]
        assert list(dict.fromkeys(seq)) == ["grad 1", "grad 4", "grad 7"]
    no_exception(page)
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("size", [(1400, 900), (390, 844)], ids=["desktop", "phone"])
def test_backflow_screenshots(browser, app_url, size):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=1)
    page = ctx.new_page()
    page.set_default_timeout(30_000)
    page.app_url = app_url
    try:
        # the step-by-step figure at the last step: backward arrows beside the edges
        page.goto(f"{app_url}/walkthrough?{FAN_OUT}&step=4")
        wait_idle(page)
        page.wait_for_selector(SHOWN)
        page.locator(SHOWN).scroll_into_view_if_needed()
        shot(page, f"backflow_steps_{size[0]}")
        open_animation(page, FAN_OUT)
        page.locator(SHOWN).scroll_into_view_if_needed()
        play_to_the_end(page)
        page.locator(SHOWN).screenshot(path=str(shot(page, f"backflow_anim_{size[0]}")).replace(".png", "_chart.png"))
        no_exception(page)
    finally:
        ctx.close()
