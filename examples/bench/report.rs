//! Plain-text tables and the small statistics the scenarios print.

use std::time::Duration;

/// A table printed with columns padded to their widest cell.
pub struct Table {
    title: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(title: &str, header: &[&str]) -> Self {
        Self {
            title: title.into(),
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints as a Markdown table (readable in a terminal, pasteable into the README).
    pub fn print(&self) {
        let mut width: Vec<usize> = self.header.iter().map(String::len).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < width.len() {
                    width[i] = width[i].max(c.len());
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&width)
                .map(|(c, w)| format!("{c:>w$}"))
                .collect();
            println!("| {} |", padded.join(" | "));
        };
        println!("\n{}\n", self.title);
        line(&self.header);
        let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
        println!("|-{}-|", rule.join("-|-"));
        for r in &self.rows {
            line(r);
        }
    }
}

/// The `q`-quantile (0..=1) of `xs` by the nearest-rank method; `None` when empty.
pub fn quantile(xs: &mut [Duration], q: f64) -> Option<Duration> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    Some(xs[rank - 1])
}

/// Milliseconds with no decimals, or `-`.
pub fn ms(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{}", d.as_millis()))
}

/// A ratio with two decimals, or `-` when the denominator is zero.
pub fn per(n: f64, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.2}", n / d as f64)
    }
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat` (100 ticks/s).
pub fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / 100.0)
        })
        .unwrap_or(0.0)
}
