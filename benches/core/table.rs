//! The one table the bench prints.

use std::time::Duration;

use super::load::Run;

/// One line of the table.
pub struct Row {
    /// What was measured.
    pub what: String,
    /// humit's figure.
    pub humit: String,
    /// The baseline, named, with its figure.
    pub baseline: String,
    /// humit against the baseline.
    pub ratio: String,
    /// The target.
    pub target: String,
    /// Whether the target was met (`None`: no target).
    pub met: Option<bool>,
}

/// `123/s`.
pub fn rate(r: f64) -> String {
    format!("{r:.0}/s")
}

/// `12.3 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A throughput row: humit's run against a named baseline rate, with a minimum ratio if any.
pub fn vs(what: String, humit: &Run, baseline: (String, f64), min: Option<f64>) -> Row {
    let ratio = humit.rate() / baseline.1;
    let failed = if humit.failed > 0 {
        format!(" ({} failed)", humit.failed)
    } else {
        String::new()
    };
    Row {
        what,
        humit: format!("{}{failed}", rate(humit.rate())),
        baseline: format!("{}: {}", baseline.0, rate(baseline.1)),
        ratio: format!("{:.0}%", ratio * 100.0),
        target: min.map_or("—".into(), |m| format!("≥ {:.0}%", m * 100.0)),
        met: min.map(|m| ratio >= m),
    }
}

/// A row without a baseline.
pub fn alone(what: &str, humit: String, target: &str, met: Option<bool>) -> Row {
    Row {
        what: what.into(),
        humit,
        baseline: "—".into(),
        ratio: "—".into(),
        target: target.into(),
        met,
    }
}

/// Prints the rows as a Markdown table.
pub fn print(rows: &[Row]) {
    println!("| what | humit | baseline (same run) | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} | {met} |",
            r.what, r.humit, r.baseline, r.ratio, r.target
        );
    }
}
