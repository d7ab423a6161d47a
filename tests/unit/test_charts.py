"""The charts: well-formed SVG, values written out, bars to scale, missing and empty data."""

import xml.etree.ElementTree as ET

import pytest

from windowsvc.rules.ratings import LEVELS
from windowsvc.web.charts import as_table, bar_chart, distribution_chart, nice_ticks, trend_chart
from windowsvc.web.svg import format_value

NS = "{http://www.w3.org/2000/svg}"


def parse(svg):
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg" and root.get("role") == "img"
    assert root.find(f"{NS}title").get("id") == root.get("aria-labelledby")
    assert root.find(f"{NS}desc").get("id") == root.get("aria-describedby")
    return root


def by_class(root, tag, name):
    return [e for e in root.iter(f"{NS}{tag}") if name in (e.get("class") or "").split()]


def texts(element):
    return "".join(element.itertext())


def desc(root):
    return root.find(f"{NS}desc").text


class TestBarChart:
    ROWS = [("市场监督管理局", 93.456), ("税务局", 46.7), ("卫健委", None), ("交通局", 0.0)]

    def test_bar_lengths_are_proportional_to_the_values(self):
        root = parse(bar_chart("好评率", self.ROWS, "%"))
        bars = {g.get("data-label"): g for g in by_class(root, "g", "bar")}
        width = {
            k: float(g.find(f"{NS}rect").get("width")) for k, g in bars.items() if k != "卫健委"
        }
        assert width["市场监督管理局"] / width["税务局"] == pytest.approx(93.456 / 46.7, rel=0.01)
        assert width["交通局"] == 0

    def test_values_are_written_as_percentages(self):
        root = parse(bar_chart("好评率", self.ROWS, "%"))
        written = [texts(t) for t in by_class(root, "text", "value")]
        assert written == ["93.5%", "46.7%", "0.0%"]
        assert "市场监督管理局 93.5%" in desc(root) and "卫健委 无数据" in desc(root)

    def test_none_is_shown_as_no_data(self):
        root = parse(bar_chart("好评率", self.ROWS, "%"))
        (missing,) = by_class(root, "g", "missing")
        assert missing.get("data-label") == "卫健委" and "无数据" in texts(missing)

    def test_the_scale_follows_max_value_and_clamps_above_it(self):
        root = parse(bar_chart("件数", [("甲", 50), ("乙", 200)], "件", max_value=100))
        a, b = (float(g.find(f"{NS}rect").get("width")) for g in by_class(root, "g", "bar"))
        assert b == pytest.approx(2 * a)
        assert [texts(t) for t in by_class(root, "text", "value")] == ["50件", "200件"]

    def test_all_missing_and_empty(self):
        root = parse(bar_chart("件数", [("甲", None)], "件"))
        assert len(by_class(root, "g", "missing")) == 1
        root = parse(bar_chart("件数", [], "件"))
        assert "暂无数据" in texts(root) and not by_class(root, "g", "bar")

    def test_text_is_escaped(self):
        svg = bar_chart("<b>&", [("部门<&>\"'", 1.0)], "件")
        assert "<b>" not in svg
        root = parse(svg)
        assert root.find(f"{NS}title").text == "<b>&"
        assert by_class(root, "g", "bar")[0].get("data-label") == "部门<&>\"'"


class TestTrendChart:
    POINTS = [("第1周", 90.0), ("第2周", 95.0), ("第3周", None), ("第4周", 92.5), ("第5周", 93.0)]

    def test_points_values_and_a_gap_for_none(self):
        root = parse(trend_chart("好评率", self.POINTS, "%"))
        points = by_class(root, "circle", "point")
        assert [p.get("data-label") for p in points] == ["第1周", "第2周", "第4周", "第5周"]
        assert [texts(t) for t in by_class(root, "text", "value")] == [
            "90.0%",
            "95.0%",
            "92.5%",
            "93.0%",
        ]
        (gap,) = by_class(root, "text", "gap")
        assert gap.get("data-label") == "第3周" and "无数据" in texts(gap)
        # two runs of the line: the gap breaks it
        assert len(by_class(root, "path", "line")) == 2
        assert "第3周 无数据" in desc(root)

    def test_higher_values_are_drawn_higher(self):
        root = parse(trend_chart("好评率", self.POINTS, "%"))
        y = {p.get("data-label"): float(p.get("cy")) for p in by_class(root, "circle", "point")}
        assert y["第2周"] < y["第5周"] < y["第4周"] < y["第1周"]

    def test_a_single_point_and_a_flat_line(self):
        parse(trend_chart("件数", [("第1周", 5)], "件"))
        root = parse(trend_chart("件数", [("a", 0), ("b", 0)], "件"))
        assert len(by_class(root, "circle", "point")) == 2

    def test_many_weeks_thin_the_labels(self):
        root = parse(trend_chart("件数", [(f"2024-W{k:02}", k) for k in range(1, 53)], "件"))
        assert len(by_class(root, "circle", "point")) == 52
        assert len(by_class(root, "text", "period")) < 52

    @pytest.mark.parametrize("points", [[], [("第1周", None), ("第2周", None)]])
    def test_no_data(self, points):
        root = parse(trend_chart("件数", points, "件"))
        assert "暂无数据" in texts(root) and not by_class(root, "circle", "point")


class TestDistributionChart:
    def test_levels_in_order_with_labels_counts_and_shares(self):
        counts = {"5": 120, 4: 40, "3": 10, 2: 3, "1": 7}
        root = parse(distribution_chart("评价等级", counts, LEVELS))
        columns = by_class(root, "g", "column")
        assert [c.get("data-level") for c in columns] == ["1", "2", "3", "4", "5"]
        assert "非常不满意" in texts(columns[0]) and "非常满意" in texts(columns[4])
        assert "120 (66.7%)" in texts(columns[4]) and "7 (3.9%)" in texts(columns[0])
        heights = [float(c.find(f"{NS}rect").get("height")) for c in columns]
        assert heights[4] / heights[3] == pytest.approx(3, rel=0.01)
        assert "共 180 条" in desc(root) and "满意 40 条 (22.2%)" in desc(root)

    def test_a_level_without_ratings_is_drawn_as_zero(self):
        root = parse(distribution_chart("评价等级", {5: 2}, LEVELS))
        columns = {c.get("data-level"): c for c in by_class(root, "g", "column")}
        assert len(columns) == 5 and columns["1"].get("data-count") == "0"
        assert "100.0%" in texts(columns["5"])

    @pytest.mark.parametrize("counts", [{}, {1: 0, 5: 0}, None])
    def test_no_ratings(self, counts):
        root = parse(distribution_chart("评价等级", counts, LEVELS))
        assert "暂无数据" in texts(root) and not by_class(root, "g", "column")

    def test_labels_are_escaped(self):
        root = parse(distribution_chart("<&>", {1: 1}, {1: "差<&>"}))
        assert "差<&>" in texts(by_class(root, "g", "column")[0])


def test_format_value():
    assert format_value(93.456, "%") == "93.5%"
    assert format_value(100, "%") == "100.0%"
    assert format_value(12.0, "件") == "12件"
    assert format_value(None, "%") == "无数据"


def test_nice_ticks_cover_the_range():
    assert nice_ticks(0, 100, 4) == [0, 25, 50, 75, 100]
    ticks = nice_ticks(87, 171)
    assert ticks[0] <= 87 and ticks[-1] >= 171


def test_as_table_escapes_and_formats():
    html = as_table([("甲<&>", 93.45), ("乙", None)], "%", caption="好评率")
    assert "甲&lt;&amp;&gt;" in html and "93.5%" in html and "无数据" in html
    assert "<caption>好评率</caption>" in html
