"""The admin's SVG charts: axes with values, labels that fit, a legend, the exact value on hover."""

import re
from xml.etree import ElementTree

from django.utils import translation

from core.charts import Series, bar_chart, line_chart, sparkline

SVG = "{http://www.w3.org/2000/svg}"
QUARTERS = [f"{year} Q{quarter}" for year in (2024, 2025, 2026) for quarter in (1, 2, 3, 4)]


def parse(markup: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def texts(svg: ElementTree.Element, css_class: str) -> list[ElementTree.Element]:
    return [element for element in svg.iter(f"{SVG}text") if element.get("class") == css_class]


def titles(svg: ElementTree.Element) -> list[str]:
    return [element.text for element in svg.iter(f"{SVG}title")]


def test_it_draws_a_y_axis_with_rounded_percent_ticks_for_a_rate():
    svg = parse(line_chart(list(zip(QUARTERS[:4], [50.0, 62.5, None, 71.3])), title="Retention rate",
                           minimum=0, maximum=100, value_suffix="%"))
    assert [tick.text for tick in texts(svg, "tick")] == ["0%", "20%", "40%", "60%", "80%", "100%"]


def test_it_fits_the_axis_of_counts_to_whole_rounded_steps():
    svg = parse(bar_chart([("Jan", 575), ("Feb", 626), ("Mar", 3)], title="Active customers"))
    assert [tick.text for tick in texts(svg, "tick")] == ["0", "200", "400", "600", "800"]


def test_it_gives_every_point_and_bar_its_exact_value_on_hover():
    line = parse(line_chart([("2026 Q1", 66.67), ("2026 Q2", None), ("2026 Q3", 106.6)], title="Retention rate",
                            value_suffix="%"))
    assert titles(line) == ["Retention rate", "2026 Q1: 66.67%", "2026 Q3: 106.6%"]
    bars = parse(bar_chart([("Sent", 1234), ("Opened", 0)], title="Messages"))
    assert titles(bars) == ["Messages", "Sent: 1,234", "Opened: 0"]


def test_it_names_the_figures_for_screen_readers_and_stays_left_to_right():
    svg = parse(line_chart([("2026 Q1", 50.0), ("2026 Q2", 25.0)], title="Churn rate", value_suffix="%"))
    assert svg.get("role") == "img" and svg.get("dir") == "ltr"
    assert svg.get("aria-label") == "Churn rate: 2026 Q1: 50%, 2026 Q2: 25%"


def test_it_shows_a_legend_for_two_series_and_none_for_one():
    two = parse(bar_chart(labels=["A", "B"], series=[Series("Click rate", [10.0, 12.5]), Series("Conversion rate", [2.0, 3.0])],
                          title="By variant", value_suffix="%"))
    legend = next(group for group in two.iter(f"{SVG}g") if group.get("class") == "legend")
    assert [text.text for text in legend.iter(f"{SVG}text")] == ["Click rate", "Conversion rate"]
    assert "Conversion rate, B: 3%" in titles(two)
    one = parse(bar_chart([("A", 10.0)], title="By variant"))
    assert not [group for group in one.iter(f"{SVG}g") if group.get("class") == "legend"]


def test_it_keeps_every_x_label_inside_the_drawing_and_thins_them_when_crowded():
    months = [f"2026-{month:02d} long label" for month in range(1, 13)] * 2
    svg = parse(line_chart([(label, float(index)) for index, label in enumerate(months)], title="Crowded", width=400))
    width = float(svg.get("viewBox").split()[2])
    written = texts(svg, "x-label")
    assert 1 < len(written) < len(months)
    for text in written:
        half = len(text.text) * 11 * 0.62 / 2
        assert 0 <= float(text.get("x")) - half and float(text.get("x")) + half <= width
    edges = parse(line_chart([("January 2026", 1.0), ("December 2026", 2.0)], title="Two", width=240))
    first, last = texts(edges, "x-label")
    assert first.text == "January 2026" and last.text == "December 2026"
    assert float(first.get("x")) - len(first.text) * 11 * 0.62 / 2 >= 0
    assert float(last.get("x")) + len(last.text) * 11 * 0.62 / 2 <= 240


def test_it_draws_no_chart_before_there_are_figures():
    for chart in (line_chart([("2026 Q1", None)], title="Retention rate", empty="Not computed yet: tonight."),
                  bar_chart([], title="Retention rate", empty="Not computed yet: tonight.")):
        assert "<svg" not in chart and "Not computed yet: tonight." in chart and "Retention rate" not in chart
    spark = sparkline([None, None], title="Retention rate, last 2 periods", empty="not computed yet")
    assert "<svg" not in spark and "Retention rate" not in spark


def test_it_writes_numbers_as_the_admin_does_in_the_active_language():
    with translation.override("ar"):
        svg = parse(bar_chart([("A", 1234.5)], title="Value"))
    assert "A: 1234,5" in titles(svg)  # Django's Arabic formats (a decimal comma), as in the admin's tables


def test_a_persian_reader_reads_the_charts_ticks_labels_and_values_in_persian_digits():
    with translation.override("fa"):
        svg = parse(line_chart([("2026 Q1", 40.0), ("2026 Q2", 55.5)], title="Retention", value_suffix="%"))
        spark = parse(str(sparkline([40.0, 55.5], title="Retention", labels=["2026 Q1", "2026 Q2"], value_suffix="%")))
    written = " ".join(svg.itertext()) + " " + " ".join(titles(svg)) + " " + " ".join(titles(spark))
    assert "۲۰۲۶ Q۲" in written and "۵۵" in written
    assert not re.search("[0-9]", written), written


def test_a_sparkline_fills_its_cell_and_says_each_value_on_hover():
    markup = str(sparkline([40.0, None, 55.5], title="Retention rate, last 3 periods", labels=["2026 Q1", "2026 Q2", "2026 Q3"],
                           value_suffix="%"))
    svg = parse(markup)
    assert "sparkline" in svg.get("class") and svg.get("width") is None  # the page's CSS sizes it
    assert titles(svg) == ["Retention rate, last 3 periods", "2026 Q1: 40%", "2026 Q3: 55.5%"]
    assert not re.search(r"max-width:\s*\d+px", markup)
