//! SVG bar charts of the medians (with min–max whiskers), with plotters.

use crate::apps;
use crate::report::{samples, Metric};
use crate::stats::{median, num, range};
use crate::Results;
use plotters::coord::ranged1d::{AsRangedCoord, SegmentValue, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

struct Bar {
    label: String,
    color: RGBColor,
    median: Option<f64>,
    range: Option<(f64, f64)>,
}

struct Panel {
    title: String,
    unit: &'static str,
    log: bool,
    bars: Vec<Bar>,
}

fn color(key: &str) -> RGBColor {
    match key {
        "none" => RGBColor(150, 150, 150),
        "hand" => RGBColor(66, 114, 196),
        "itotel" => RGBColor(237, 125, 49),
        _ => RGBColor(46, 150, 80),
    }
}

fn bar(key: &str, values: &[f64]) -> Bar {
    Bar {
        label: apps::by_key(key)
            .map(|a| a.label())
            .unwrap_or_else(|| key.into()),
        color: color(key),
        median: median(values),
        range: range(values),
    }
}

fn err<E: std::fmt::Display>(e: E) -> String {
    format!("plot: {e}")
}

fn draw(path: &Path, title: &str, panels: &[Panel]) -> Result<(), String> {
    let width = 380 * panels.len() as u32;
    let root = SVGBackend::new(path, (width, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 20)).map_err(err)?;
    for (area, p) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        let hi = p
            .bars
            .iter()
            .filter_map(|b| b.range.map(|r| r.1).or(b.median))
            .fold(0.0_f64, f64::max)
            .max(1e-9);
        if p.log {
            let lo = p
                .bars
                .iter()
                .filter_map(|b| b.range.map(|r| r.0).or(b.median))
                .filter(|v| *v > 0.0)
                .fold(f64::INFINITY, f64::min);
            let lo = if lo.is_finite() {
                10f64.powf((lo / 2.0).log10().floor())
            } else {
                0.1
            };
            let hi = 10f64.powf((hi * 2.0).log10().ceil());
            panel(area, p, (lo..hi).log_scale(), lo)?;
        } else {
            panel(area, p, 0.0..hi * 1.18, 0.0)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

fn panel<Y>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    p: &Panel,
    y: Y,
    base: f64,
) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let n = p.bars.len() as i32;
    let labels: Vec<String> = p.bars.iter().map(|b| b.label.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(58)
        .build_cartesian_2d((0..n - 1).into_segmented(), y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .y_desc(p.unit)
        .y_label_formatter(&|v| num(*v))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                labels.get(*i as usize).cloned().unwrap_or_default()
            }
            SegmentValue::Last => String::new(),
        })
        .draw()
        .map_err(err)?;
    let value_style =
        TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, b) in p.bars.iter().enumerate() {
        let i = i as i32;
        match b.median {
            Some(v) => {
                let mut rect = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), base),
                        (SegmentValue::Exact(i + 1), v),
                    ],
                    b.color.filled(),
                );
                rect.set_margin(0, 0, 14, 14);
                chart.draw_series(std::iter::once(rect)).map_err(err)?;
                if let Some((lo, hi)) = b.range {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![
                                (SegmentValue::CenterOf(i), lo),
                                (SegmentValue::CenterOf(i), hi),
                            ],
                            BLACK.stroke_width(1),
                        )))
                        .map_err(err)?;
                }
                let top = b.range.map(|r| r.1).unwrap_or(v).max(v);
                chart
                    .draw_series(std::iter::once(Text::new(
                        num(v),
                        (SegmentValue::CenterOf(i), top),
                        value_style.clone(),
                    )))
                    .map_err(err)?;
            }
            None => {
                let at = if base > 0.0 { base * 1.5 } else { 0.0 };
                chart
                    .draw_series(std::iter::once(Text::new(
                        "n/a".to_string(),
                        (SegmentValue::CenterOf(i), at),
                        value_style.clone(),
                    )))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

pub fn all(r: &Results, out: &Path) -> Result<(), String> {
    let telemetry: Vec<&String> = r
        .apps
        .iter()
        .filter(|k| apps::by_key(k).is_some_and(|a| a.telemetry))
        .collect();
    let runs = r.runs_per_condition;

    if r.conditions.iter().any(|c| c == "up") {
        let panels = [
            Panel {
                title: "launch → telemetry ready".into(),
                unit: "ms",
                log: false,
                bars: r
                    .apps
                    .iter()
                    .map(|k| bar(k, &samples(r, k, "up", Metric::Value("ready_ms"))))
                    .collect(),
            },
            Panel {
                title: "launch → first span in Jaeger".into(),
                unit: "ms",
                log: false,
                bars: telemetry
                    .iter()
                    .map(|k| bar(k, &samples(r, k, "up", Metric::FirstSpan)))
                    .collect(),
            },
            Panel {
                title: "launch → exit".into(),
                unit: "ms",
                log: false,
                bars: r
                    .apps
                    .iter()
                    .map(|k| bar(k, &samples(r, k, "up", Metric::Wall)))
                    .collect(),
            },
        ];
        draw(
            &out.join("startup.svg"),
            &format!("Start-up, collector up (medians of {runs}, min–max whiskers)"),
            &panels,
        )?;
    }

    let panels: Vec<Panel> = r
        .conditions
        .iter()
        .map(|c| Panel {
            title: format!("collector {c}"),
            unit: "ms (log scale)",
            log: true,
            bars: telemetry
                .iter()
                .map(|k| bar(k, &samples(r, k, c, Metric::Value("shutdown_ms"))))
                .collect(),
        })
        .collect();
    if !panels.is_empty() {
        draw(
            &out.join("shutdown.svg"),
            &format!("Guard / provider shutdown at exit (medians of {runs}, min–max whiskers)"),
            &panels,
        )?;
    }

    let mut panels = Vec::new();
    if r.builds.iter().any(|b| !b.clean_secs.is_empty()) {
        panels.push(Panel {
            title: "clean release build".into(),
            unit: "s",
            log: false,
            bars: r
                .builds
                .iter()
                .map(|b| bar(&b.app, &b.clean_secs))
                .collect(),
        });
    }
    panels.push(Panel {
        title: "stripped binary".into(),
        unit: "MiB",
        log: false,
        bars: r
            .builds
            .iter()
            .map(|b| bar(&b.app, &[b.stripped_bytes as f64 / 1024.0 / 1024.0]))
            .map(|mut b| {
                b.range = None;
                b
            })
            .collect(),
    });
    if r.conditions.iter().any(|c| c == "up") {
        panels.push(Panel {
            title: "peak RSS, collector up".into(),
            unit: "MiB",
            log: false,
            bars: r
                .apps
                .iter()
                .map(|k| bar(k, &samples(r, k, "up", Metric::RssMib)))
                .collect(),
        });
    }
    draw(
        &out.join("footprint.svg"),
        "Build time, size, memory",
        &panels,
    )?;
    Ok(())
}
