//! Parsing of the `spec.timeout` duration strings (`30m`, `1h30m`, `90s`).
//!
//! The accepted grammar is exactly what the CRD's CEL rules accept (see [`super::rules`]): one or
//! more `<digits><unit>` groups with unit `h`, `m` or `s`, between [`MIN_TIMEOUT`] and
//! [`MAX_TIMEOUT`]. It is a subset of Go's `time.ParseDuration` (no fractions, no signs, no
//! `ms`/`us`/`ns`), so the apiserver's CEL `duration()` reads every accepted value the same way.

use std::time::Duration;

/// Smallest accepted timeout (`1s`).
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
/// Largest accepted timeout (`168h`, one week): keeps deadline arithmetic far from overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(168 * 3600);

/// Parses a timeout such as `30m`, `1h30m`, `90s` or `2h`.
///
/// Errors say what is wrong in words a user can act on; they never echo more than the input.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    parse_duration_up_to(input, MAX_TIMEOUT)
}

/// [`parse_duration`] with another upper bound (a schedule's `retention.maxAge` spans years).
pub fn parse_duration_up_to(input: &str, max: Duration) -> Result<Duration, String> {
    if input.is_empty() {
        return Err("empty duration: use e.g. 30m, 1h30m or 90s".to_owned());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in input.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit_secs: u64 = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "invalid duration {input:?}: unexpected {c:?}; use units h, m, s as in 1h30m"
                ));
            }
        };
        if digits.is_empty() {
            return Err(format!(
                "invalid duration {input:?}: unit {c:?} without a number before it"
            ));
        }
        // Values past MAX_TIMEOUT are rejected below; saturating keeps huge inputs from wrapping.
        let value: u64 = digits.parse().unwrap_or(u64::MAX);
        total = total.saturating_add(value.saturating_mul(unit_secs));
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(format!(
            "invalid duration {input:?}: number without a unit (h, m or s) at the end"
        ));
    }
    let duration = Duration::from_secs(total);
    if duration < MIN_TIMEOUT || duration > max {
        return Err(format!(
            "invalid duration {input:?}: must be between 1s and {}h",
            max.as_secs() / 3600
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_go_style_durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1h0m5s"), Ok(Duration::from_secs(3605)));
        assert_eq!(parse_duration("1s"), Ok(MIN_TIMEOUT));
        assert_eq!(parse_duration("168h"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_duration("100m"), Ok(Duration::from_secs(6000)));
    }

    #[test]
    fn rejects_malformed_input_with_a_reason() {
        for (input, needle) in [
            ("", "empty"),
            ("30", "without a unit"),
            ("h", "without a number"),
            ("1h30", "without a unit"),
            ("1.5h", "unexpected '.'"),
            ("-5m", "unexpected '-'"),
            ("5 m", "unexpected ' '"),
            ("300ms", "without a number"),
            ("1d", "unexpected 'd'"),
            ("0s", "between 1s and 168h"),
            ("169h", "between 1s and 168h"),
            ("99999999999999999999999h", "between 1s and 168h"),
        ] {
            let err = parse_duration(input).expect_err(input);
            assert!(err.contains(needle), "{input:?}: {err}");
        }
    }
}
