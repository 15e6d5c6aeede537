//! Bar charts as inline SVG, drawn by the server from exact values: no script, no
//! chart library, nothing the Content-Security-Policy would block (presentation
//! attributes only, no `style`). Each chart is a `<figure>` with the SVG (`role="img"`,
//! its `<title>` the chart's title) and a data table with the same numbers beside it,
//! for screen readers and for copying.
//!
//! Heights are computed in decimals and rounded to whole SVG units: no float.

use maud::{Markup, html};
use rust_decimal::Decimal;

/// One bar: its label, the value its height is drawn from (not negative), and the
/// value as the table shows it.
#[derive(Debug, Clone)]
pub struct Bar {
    /// What the bar is (a stage, a month).
    pub label: String,
    /// Its size; negative values are drawn as 0.
    pub value: Decimal,
    /// The value as shown in the table and the bar's tooltip.
    pub shown: String,
}

/// A chart's words: its id (unique in the page), title and the two column headers of
/// its table.
#[derive(Debug, Clone, Copy)]
pub struct ChartText<'a> {
    /// The id of the figure; the SVG's title gets `{id}-title`.
    pub id: &'a str,
    /// The title.
    pub title: &'a str,
    /// The header of the labels' column.
    pub label_header: &'a str,
    /// The header of the values' column.
    pub value_header: &'a str,
}

const HEIGHT: i64 = 160;
const BAR: i64 = 36;
const GAP: i64 = 12;
const LABEL_SPACE: i64 = 40;

/// The height of a bar of `value` in a chart whose largest value is `max`.
fn height(value: Decimal, max: Decimal) -> i64 {
    if max <= Decimal::ZERO || value <= Decimal::ZERO {
        return 0;
    }
    let h = (value * Decimal::from(HEIGHT) / max).round();
    i64::try_from(h).unwrap_or(HEIGHT).clamp(1, HEIGHT)
}

/// A vertical bar chart with its data table. `extra` adds columns to the table
/// (header, one value per bar).
pub fn bar_chart(text: ChartText<'_>, bars: &[Bar], extra: &[(&str, Vec<String>)]) -> Markup {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(Decimal::ZERO);
    let n = i64::try_from(bars.len()).unwrap_or(0);
    let width = (n * (BAR + GAP) + GAP).max(120);
    let total_height = HEIGHT + LABEL_SPACE;
    let title_id = format!("{}-title", text.id);
    html! {
        figure.chart id=(text.id) {
            figcaption { (text.title) }
            svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(title_id)
                viewBox=(format!("0 0 {width} {total_height}")) width=(width) height=(total_height) {
                title id=(title_id) { (text.title) }
                line.axis x1="0" y1=(HEIGHT) x2=(width) y2=(HEIGHT) stroke="currentColor" {}
                @for (i, bar) in bars.iter().enumerate() {
                    @let x = GAP + i64::try_from(i).unwrap_or(0) * (BAR + GAP);
                    @let h = height(bar.value, max);
                    g.bar-group {
                        rect.bar x=(x) y=(HEIGHT - h) width=(BAR) height=(h)
                            data-value=(bar.shown) {
                            title { (bar.label) ": " (bar.shown) }
                        }
                        text.bar-label x=(x + BAR / 2) y=(HEIGHT + 14) text-anchor="middle"
                            font-size="10" { (bar.label) }
                    }
                }
            }
            table.data {
                caption { (text.title) }
                thead { tr {
                    th scope="col" { (text.label_header) }
                    th scope="col" { (text.value_header) }
                    @for (header, _) in extra { th scope="col" { (header) } }
                } }
                tbody {
                    @for (i, bar) in bars.iter().enumerate() {
                        tr {
                            th scope="row" { (bar.label) }
                            td.num { (bar.shown) }
                            @for (_, values) in extra {
                                td.num { (values.get(i).map_or("", String::as_str)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.to_owned(),
            value: Decimal::from(value),
            shown: value.to_string(),
        }
    }

    #[test]
    fn bars_scale_to_the_largest_and_labels_are_escaped() {
        let text = ChartText {
            id: "c",
            title: "T <b>",
            label_header: "L",
            value_header: "V",
        };
        let svg =
            bar_chart(text, &[bar("<script>", 10), bar("b", 5), bar("c", 0)], &[]).into_string();
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        assert!(svg.contains("height=\"160\""), "{svg}");
        assert!(svg.contains("height=\"80\""), "{svg}");
        assert!(svg.contains("height=\"0\""), "{svg}");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
        assert!(!svg.contains("style="), "{svg}");
        assert!(svg.contains("<caption>T &lt;b&gt;</caption>"), "{svg}");
    }

    #[test]
    fn an_empty_or_all_zero_chart_draws_no_height() {
        assert_eq!(height(Decimal::ZERO, Decimal::ZERO), 0);
        assert_eq!(height(Decimal::from(3), Decimal::ZERO), 0);
        assert_eq!(height(Decimal::from(1), Decimal::from(100_000)), 1);
    }
}
