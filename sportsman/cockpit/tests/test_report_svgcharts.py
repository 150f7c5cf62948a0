"""The report's server-side charts: valid SVG whatever the text, one mark per value, round ticks
that cover the values, the same bytes for the same input."""

from __future__ import annotations

import itertools

from defusedxml import ElementTree
from hypothesis import given
from hypothesis import strategies as st

from sportsman.cockpit import svgcharts
from sportsman.cockpit.svgcharts import Series, bar_chart, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str):
    return ElementTree.fromstring(svg)


def marks(svg: str, tag: str, cls: str) -> list:
    return [e for e in parse(svg).iter(f"{NS}{tag}") if e.get("class") == cls]


def texts(svg: str) -> list[str]:
    return [e.text or "" for e in parse(svg).iter(f"{NS}text")]


def test_a_line_chart_marks_each_value_and_leaves_gaps_for_missing_ones():
    labels = [str(d) for d in range(1, 32)]
    values: list[float | None] = [float(d * 10) for d in range(1, 32)]
    values[10] = values[11] = None
    svg = line_chart(labels, [Series("锻炼时长", values)], title="锻炼时长（按日）", unit="分钟")

    root = parse(svg)
    assert root.tag == f"{NS}svg"
    assert len(marks(svg, "circle", "point")) == 29
    assert len(marks(svg, "polyline", "line")) == 2  # the gap splits the line
    assert "锻炼时长（按日）" in texts(svg)
    assert "分钟" in texts(svg)


def test_a_line_chart_with_two_series_has_a_legend_and_both_lines():
    svg = line_chart(["1", "2", "3"], [Series("甲", [1, 2, 3]), Series("乙", [3, 2, None])],
                     title="t")
    assert len(marks(svg, "circle", "point")) == 5
    assert {"甲", "乙"} <= set(texts(svg))


def test_a_vertical_bar_chart_draws_a_bar_per_value():
    labels = [f"2026-{m:02d}" for m in range(1, 13)]
    values: list[float | None] = [float(m) for m in range(12)]
    values[3] = None
    svg = bar_chart(labels, values, title="近12个月")
    assert len(marks(svg, "rect", "bar")) == 11


def test_a_horizontal_bar_chart_names_each_subunit_and_grows_with_them():
    names = ["南湖区", "秀洲区", "嘉善县"]
    svg = bar_chart(names, [30, 20, 0], title="下级单位", horizontal=True)
    assert len(marks(svg, "rect", "bar")) == 3
    assert set(names) <= set(texts(svg))
    taller = bar_chart(names * 4, [1] * 12, title="下级单位", horizontal=True)
    assert int(parse(taller).get("height")) > int(parse(svg).get("height"))


def test_a_long_label_is_clipped_with_an_ellipsis():
    name = "一个名字非常非常非常非常非常非常长的社区居民委员会"
    svg = bar_chart([name, "短"], [5, 3], title="t", horizontal=True, width=300)
    shown = [t for t in texts(svg) if t.startswith("一个")]
    assert shown and shown[0].endswith("…") and len(shown[0]) < len(name)


def test_text_is_escaped():
    nasty = '<script>alert("x")</script> & 南湖'
    svg = bar_chart([nasty], [1], title=nasty, horizontal=True)
    assert "<script>" not in svg
    assert nasty in texts(svg)


def test_the_same_input_gives_the_same_bytes():
    args = (["1", "2", "3"], [Series("a", [1.234, 5.678, None])])
    assert line_chart(*args, title="x") == line_chart(*args, title="x")


def test_charts_without_values_say_so():
    svg = line_chart(["1", "2"], [Series("a", [None, None])], title="t", empty="暂无数据")
    assert "暂无数据" in texts(svg)
    assert not marks(svg, "circle", "point")


def test_ticks_are_round_and_cover_the_values():
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(152) == [0, 50, 100, 150, 200]
    assert nice_ticks(0.9) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]


@given(st.floats(min_value=0.001, max_value=1e12))
def test_ticks_start_at_zero_are_evenly_spaced_and_reach_the_top(high):
    ticks = nice_ticks(high)
    assert ticks[0] == 0 and ticks[-1] >= high * (1 - 1e-9)  # up to floating-point noise
    steps = {round(b - a, 6) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    assert 2 <= len(ticks) <= 12


@given(labels=st.lists(st.text(max_size=20), min_size=1, max_size=40),
       data=st.data())
def test_any_labels_and_values_make_valid_svg(labels, data):
    values = data.draw(st.lists(st.one_of(st.none(), st.floats(0, 1e9)),
                                min_size=len(labels), max_size=len(labels)))
    present = sum(v is not None for v in values)
    line = line_chart(labels, [Series("s", values)], title="t")
    assert len(marks(line, "circle", "point")) == present
    for horizontal in (False, True):
        bars = bar_chart(labels, values, title="t", horizontal=horizontal)
        assert len(marks(bars, "rect", "bar")) == present


def test_text_width_counts_chinese_as_a_full_em():
    assert svgcharts.text_width("南湖", 10) == 20
    assert svgcharts.text_width("ab", 10) == 12
