//! The side-by-side suite: every side of one workload (ours and its peers) is
//! timed in alternating rounds of one process, the order rotating each round,
//! so all of them see the same noise and their ratios are taken within one run.
//!
//! Each figure is printed as a table row and, when `FT_BENCH_OUT` names a file,
//! appended to it as one line of JSON, which `benches/python/report.py` joins
//! with the Python library's figures of the same driver run.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::{Mode, show};

/// The environment variable naming the JSON-lines file the figures go to.
pub const OUT_ENV_VAR: &str = "FT_BENCH_OUT";

/// The environment variable numbering the pass of `benches/run.sh --passes`,
/// recorded with each figure so that the report shows the spread across them.
pub const PASS_ENV_VAR: &str = "FT_BENCH_PASS";

/// The environment variable that, when set, keeps only the workloads whose
/// keys it lists, separated by commas (`FT_BENCH_ONLY=apply,cpu_speedup`).
pub const ONLY_ENV_VAR: &str = "FT_BENCH_ONLY";

/// What a figure measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Seconds per operation: lower is better.
    Seconds,
    /// Speedup over the serial loop: higher is better.
    Speedup,
    /// Kibibytes of resident memory: lower is better.
    KiB,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "s",
            Unit::Speedup => "x",
            Unit::KiB => "KiB",
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Unit::Seconds => show(std::time::Duration::from_secs_f64(value)),
            Unit::Speedup => format!("{value:.2}x"),
            Unit::KiB => format!("{:.1} MiB", value / 1024.0),
        }
    }
}

/// How long a workload's samples are, which sets how many rounds it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    /// Samples of milliseconds: 2 warm-up rounds, then 11 measured.
    Light,
    /// Samples of a second or so: 1 warm-up round, then 5 measured.
    Heavy,
}

/// One implementation of a workload; a call is one sample. An `Err` (or a
/// panic) drops the side from the workload, and its reason is printed instead.
pub struct Side<'a> {
    name: String,
    run: Box<dyn FnMut() -> Result<Option<Duration>, String> + 'a>,
    context: Option<String>,
}

impl<'a> Side<'a> {
    /// A side named `name` whose every call performs the workload's operations.
    pub fn new(name: impl Into<String>, mut run: impl FnMut() -> Result<(), String> + 'a) -> Self {
        Side {
            name: name.into(),
            run: Box::new(move || run().map(|()| None)),
            context: None,
        }
    }

    /// A side whose every call times its own measured part and returns it:
    /// for a workload with a set-up (starting workers and meeting them) or a
    /// tear-down that must stay out of the figure, as it does on every side.
    pub fn measured(
        name: impl Into<String>,
        mut run: impl FnMut() -> Result<Duration, String> + 'a,
    ) -> Self {
        Side {
            name: name.into(),
            run: Box::new(move || run().map(Some)),
            context: None,
        }
    }

    /// Puts `context` before the reason this side gives if it fails.
    #[must_use]
    pub fn explain_failure(mut self, context: &str) -> Self {
        self.context = Some(context.to_owned());
        self
    }

    fn call(&mut self) -> Result<f64, String> {
        let start = Instant::now();
        let reason = match catch_unwind(AssertUnwindSafe(&mut self.run)) {
            Ok(Ok(measured)) => {
                return Ok(measured.unwrap_or_else(|| start.elapsed()).as_secs_f64());
            }
            Ok(Err(reason)) => reason,
            Err(panic) => panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panicked".to_owned()),
        };
        Err(match &self.context {
            Some(context) => format!("{context}: {reason}"),
            None => reason,
        })
    }
}

/// Median, min and max of one side's samples, in the workload's unit.
#[derive(Clone, Copy, Debug)]
pub struct Figure {
    /// The median sample.
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Figure {
    /// The figure of `samples`, which must not be empty.
    ///
    /// # Panics
    ///
    /// When `samples` is empty.
    pub fn of(mut samples: Vec<f64>) -> Figure {
        samples.sort_by(f64::total_cmp);
        Figure {
            median: samples[samples.len() / 2],
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }
}

/// The figures of one group of sides (one backend of ours and its peers).
pub struct Suite {
    mode: Mode,
    group: String,
}

impl Suite {
    /// A group named `group` (such as `rust-threads`), printing its header.
    pub fn new(mode: Mode, group: &str, title: &str) -> Suite {
        println!("\n## {title}\n");
        println!("| workload | implementation | median (min–max) | ours ÷ it |");
        println!("|---|---|---|---|");
        Suite {
            mode,
            group: group.to_owned(),
        }
    }

    /// Whether the suite measures or only smoke-tests.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether `FT_BENCH_ONLY` (when set) keeps the workload `key`.
    pub fn wanted(&self, key: &str) -> bool {
        std::env::var(ONLY_ENV_VAR).map_or(true, |only| only.split(',').any(|k| k.trim() == key))
    }

    fn rounds(&self, weight: Weight) -> (usize, usize) {
        match (self.mode, weight) {
            (Mode::Smoke, _) => (0, 1),
            (Mode::Measure, Weight::Light) => (2, 11),
            (Mode::Measure, Weight::Heavy) => (1, 5),
        }
    }

    /// Times `sides` in alternating rounds; each sample is divided by `ops`.
    /// The first side is ours: the last column is its median over each side's.
    pub fn time(&self, key: &str, label: &str, weight: Weight, ops: u32, sides: Vec<Side<'_>>) {
        if !self.wanted(key) {
            return;
        }
        let figures = self.sample(weight, sides, |t| t / f64::from(ops));
        self.report(key, label, Unit::Seconds, &figures);
    }

    /// Times the serial loop and `sides`, and reports each side's speedup over it.
    pub fn speedup(&self, key: &str, label: &str, serial: Side<'_>, sides: Vec<Side<'_>>) {
        if !self.wanted(key) {
            return;
        }
        let mut all = vec![serial];
        all.extend(sides);
        let mut figures = self.sample(Weight::Heavy, all, |t| t);
        let serial = figures.remove(0);
        let Ok(serial) = serial.1 else {
            self.report(key, label, Unit::Speedup, &[serial]);
            return;
        };
        let speedups: Vec<_> = figures
            .into_iter()
            .map(|(name, figure)| {
                let figure = figure.map(|f| Figure {
                    median: serial.median / f.median,
                    min: serial.median / f.max,
                    max: serial.median / f.min,
                });
                (name, figure)
            })
            .collect();
        self.report(key, label, Unit::Speedup, &speedups);
    }

    /// Reports figures measured elsewhere (memory), or why a side has none.
    pub fn report(
        &self,
        key: &str,
        label: &str,
        unit: Unit,
        figures: &[(String, Result<Figure, String>)],
    ) {
        if !self.wanted(key) {
            return;
        }
        // The ratio is ours over each side's, so only where ours comes first and has a figure.
        let first = figures
            .first()
            .filter(|(name, _)| name.starts_with("freethreading"))
            .and_then(|(_, f)| f.as_ref().ok())
            .copied();
        for (name, figure) in figures {
            let shown = match figure {
                Ok(f) => {
                    let ratio = first
                        .map_or_else(|| "—".to_owned(), |o| format!("{:.2}", o.median / f.median));
                    format!(
                        "{} ({}–{}) | {ratio}",
                        unit.show(f.median),
                        unit.show(f.min),
                        unit.show(f.max)
                    )
                }
                Err(reason) => format!("n/a ({reason}) | —"),
            };
            println!("| {label} | {name} | {shown} |");
            self.record(key, label, unit, name, figure);
        }
    }

    fn sample(
        &self,
        weight: Weight,
        mut sides: Vec<Side<'_>>,
        per_op: impl Fn(f64) -> f64,
    ) -> Vec<(String, Result<Figure, String>)> {
        let (warmup, rounds) = self.rounds(weight);
        let n = sides.len();
        let mut samples: Vec<Result<Vec<f64>, String>> = vec![Ok(Vec::new()); n];
        for round in 0..warmup + rounds {
            for turn in 0..n {
                // Rotate who goes first, so no side always runs on a warmer cache.
                let i = (turn + round) % n;
                let Ok(taken) = &mut samples[i] else { continue };
                match sides[i].call() {
                    Ok(t) if round >= warmup => taken.push(per_op(t)),
                    Ok(_) => {}
                    Err(reason) => samples[i] = Err(reason),
                }
            }
        }
        sides
            .into_iter()
            .zip(samples)
            .map(|(side, s)| (side.name, s.map(Figure::of)))
            .collect()
    }

    fn record(
        &self,
        key: &str,
        label: &str,
        unit: Unit,
        side: &str,
        figure: &Result<Figure, String>,
    ) {
        let Some(path) = std::env::var_os(OUT_ENV_VAR) else {
            return;
        };
        let mut line = format!(
            "{{\"group\": {}, \"key\": {}, \"label\": {}, \"side\": {}, \"unit\": {}",
            json(&self.group),
            json(key),
            json(label),
            json(side),
            json(unit.as_str())
        );
        // Which pass of `benches/run.sh --passes N` this is, for the spread.
        if let Some(pass) = std::env::var(PASS_ENV_VAR)
            .ok()
            .and_then(|p| p.parse::<u32>().ok())
        {
            let _ = write!(line, ", \"pass\": {pass}");
        }
        match figure {
            Ok(f) => {
                let _ = write!(
                    line,
                    ", \"median\": {:e}, \"min\": {:e}, \"max\": {:e}}}",
                    f.median, f.min, f.max
                );
            }
            Err(reason) => {
                let _ = write!(line, ", \"na\": {}}}", json(reason));
            }
        }
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| writeln!(file, "{line}"));
        if let Err(error) = written {
            eprintln!("cannot append to {}: {error}", path.to_string_lossy());
        }
    }
}

/// `s` as a JSON string.
fn json(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::{Figure, json};

    #[test]
    fn figure_is_median_min_max() {
        let f = Figure::of(vec![3.0, 1.0, 2.0, 5.0, 4.0]);
        assert_eq!((f.median, f.min, f.max), (3.0, 1.0, 5.0));
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_controls() {
        assert_eq!(json("a \"b\" \\ \n → c"), r#""a \"b\" \\ \u000a → c""#);
    }
}
