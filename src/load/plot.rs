//! The latency-percentile plot of the load figure (mssconf load vs smtp-source): grouped bars
//! on a logarithmic axis, drawn as SVG by hand and rasterised with the evidence cards' renderer.

use std::fmt::Write as _;

use crate::evidence::card::font::SANS_FAMILY;
use crate::evidence::card::svg::escape_xml;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 520.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 70.0;
const BOTTOM: f64 = 110.0;
const GROUPS: [&str; 4] = ["p50", "p90", "p99", "max"];
const COLOURS: [&str; 4] = ["#1f6feb", "#d1242f", "#8250df", "#1a7f37"];

/// One bar per percentile.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// p50, p90, p99, max in milliseconds.
    pub values_ms: [f64; 4],
}

/// The plot as SVG text.
pub fn svg(title: &str, subtitle: &str, series: &[Series]) -> String {
    let (lo, hi) = decades(series);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - RIGHT;
    let y = |ms: f64| TOP + plot_h * (1.0 - (ms.max(10f64.powi(lo)).log10() - lo as f64) / (hi - lo) as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{SANS_FAMILY}"><rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = write!(s, r#"<text x="{LEFT}" y="32" font-size="20" font-weight="bold">{}</text>"#, escape_xml(title));
    let _ = write!(s, r##"<text x="{LEFT}" y="54" font-size="13" fill="#57606a">{}</text>"##, escape_xml(subtitle));
    for d in lo..=hi {
        let gy = y(10f64.powi(d));
        let _ = write!(s, r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{}" y2="{gy:.1}" stroke="#d0d7de" stroke-width="1"/>"##, WIDTH - RIGHT);
        let _ = write!(s, r#"<text x="{}" y="{:.1}" font-size="12" text-anchor="end">{} ms</text>"#, LEFT - 8.0, gy + 4.0, tick(d));
    }
    let _ = write!(
        s,
        r#"<text x="22" y="{:.1}" font-size="13" transform="rotate(-90 22 {:.1})" text-anchor="middle">latency (log scale)</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    let group_w = plot_w / GROUPS.len() as f64;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    for (g, name) in GROUPS.iter().enumerate() {
        let gx = LEFT + group_w * g as f64;
        let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" font-size="14" text-anchor="middle">{name}</text>"#, gx + group_w / 2.0, TOP + plot_h + 20.0);
        for (i, serie) in series.iter().enumerate() {
            let v = serie.values_ms[g];
            let x = gx + group_w * 0.1 + bar_w * i as f64;
            let top = y(v);
            let colour = COLOURS[i % COLOURS.len()];
            let _ = write!(s, r#"<rect x="{x:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#, bar_w - 2.0, (TOP + plot_h - top).max(0.0));
            let _ = write!(s, r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#, x + bar_w / 2.0 - 1.0, top - 4.0, crate::load::number::number(v));
        }
    }
    let _ = write!(s, r##"<line x1="{LEFT}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="#24292f"/>"##, TOP + plot_h, WIDTH - RIGHT, TOP + plot_h);
    for (i, serie) in series.iter().enumerate() {
        let ly = HEIGHT - BOTTOM + 45.0 + 20.0 * i as f64;
        let _ = write!(s, r#"<rect x="{LEFT}" y="{:.1}" width="14" height="14" fill="{}"/>"#, ly - 11.0, COLOURS[i % COLOURS.len()]);
        let _ = write!(s, r#"<text x="{}" y="{ly:.1}" font-size="13">{}</text>"#, LEFT + 22.0, escape_xml(&serie.name));
    }
    s.push_str("</svg>");
    s
}

/// The plot as PNG bytes.
pub fn png(title: &str, subtitle: &str, series: &[Series]) -> Result<Vec<u8>, String> {
    crate::evidence::card::rasterise(&svg(title, subtitle, series))
}

/// Powers of ten around every value (at least one decade).
fn decades(series: &[Series]) -> (i32, i32) {
    let values = series.iter().flat_map(|s| s.values_ms).filter(|v| v.is_finite() && *v > 0.0);
    let (min, max) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if min > max {
        return (-1, 2);
    }
    let lo = min.log10().floor() as i32;
    let hi = (max.log10().ceil() as i32).max(lo + 1);
    (lo, hi)
}

fn tick(decade: i32) -> String {
    crate::load::number::number(10f64.powi(decade))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> Vec<Series> {
        vec![
            Series { name: "mssconf load (TLS + XOAUTH2)".into(), values_ms: [2.1, 3.5, 8.0, 40.0] },
            Series { name: "smtp-source <plain>".into(), values_ms: [1.5, 2.5, 6.0, 30.0] },
        ]
    }

    #[test]
    fn svg_has_a_bar_per_series_and_percentile_and_escapes_names() {
        let s = svg("Load latency", "same run", &series());
        assert_eq!(s.matches("<rect x=").count(), 8 + 2, "bars plus legend swatches");
        assert!(s.contains("smtp-source &lt;plain&gt;") && s.contains(">p99<"));
        assert_eq!(decades(&series()), (0, 2));
        assert_eq!(decades(&[]), (-1, 2));
    }

    #[test]
    fn png_renders() {
        let png = png("Load latency", "same run", &series()).expect("renders");
        assert!(png.starts_with(b"\x89PNG"));
    }
}
