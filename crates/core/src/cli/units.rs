//! Docker's human-readable units: sizes like `1.99MB`, durations like `About a minute`, and the
//! relative times and container statuses built from them (`2 minutes ago`, `Up 2 minutes`,
//! `Exited (3) 5 seconds ago`).
//!
//! These follow `github.com/docker/go-units` exactly (`HumanSizeWithPrecision`, `HumanDuration`)
//! and the daemon's `State.String`. There is no clock here: every function takes the instants it
//! compares.
//!
//! ```
//! use layerbox_core::cli::units::{human_duration, human_size};
//! use std::time::Duration;
//! assert_eq!(human_size(1_990_000), "1.99MB");
//! assert_eq!(human_duration(Duration::from_secs(75)), "About a minute");
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// An instant, as nanoseconds since the Unix epoch (UTC); the engine's clock hands these in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `secs` whole seconds after the Unix epoch.
    pub const fn from_unix_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// Whole seconds since the Unix epoch (rounded down), as docker's API reports `Created`.
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// This instant without its fraction of a second, as docker's API reports `Created` for
    /// containers, images and history (so `N seconds ago` counts from the whole second).
    #[must_use]
    pub const fn whole_seconds(self) -> Timestamp {
        Timestamp::from_unix_secs(self.unix_secs())
    }

    /// The time from `self` to the later instant `now`; zero when `now` is earlier.
    pub fn elapsed_until(self, now: Timestamp) -> Duration {
        let nanos = now.0.saturating_sub(self.0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }

    /// This instant moved back by `d` (for building rows "created 5 seconds before now").
    #[must_use]
    pub fn minus(self, d: Duration) -> Timestamp {
        let nanos = i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(nanos))
    }
}

/// Sizes print as the image model prints them (go-units `HumanSizeWithPrecision(n, 3)`).
pub use crate::image::human_size;

/// go-units `HumanSize`: like [`human_size`] with 4 significant digits (`16.43MB`), as
/// `system df` prints its sizes.
pub fn human_size_4(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    #[allow(clippy::cast_precision_loss)] // printed with 4 significant digits
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_format_g(size, 4), UNITS[unit])
}

/// Go's `fmt.Sprintf("%.*g", precision, x)`: shortest of fixed or exponent form at `precision`
/// significant digits, trailing zeros removed.
pub fn go_format_g(x: f64, precision: usize) -> String {
    format_g(x, Some(precision.max(1)))
}

/// Go's `%v` for a float64 (`%g` with the shortest digits that round-trip): `1.5`, `1e+06`.
pub fn go_format_float(x: f64) -> String {
    format_g(x, None)
}

fn format_g(x: f64, precision: Option<usize>) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".to_owned()
        } else if x > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    // Rust rounds the exact binary value half-to-even, as Go's strconv does, and without a
    // precision prints the shortest digits that round-trip, as Go's does.
    let exp_form = match precision {
        Some(p) => format!("{:.*e}", p - 1, x.abs()),
        None => format!("{:e}", x.abs()),
    };
    let (mantissa, exp) = exp_form.split_once('e').unwrap_or((&exp_form, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let dp = exp + 1; // position of the decimal point relative to the digits
    let eprec = match precision {
        None => 6,
        Some(p) => {
            let p = i32::try_from(p).unwrap_or(i32::MAX);
            if p > nd && nd >= dp { nd } else { p }
        }
    };
    let sign = if x < 0.0 { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{frac}e{esign}{:02}", exp.abs());
    }
    // Fixed notation with all significant digits.
    let mut out = String::from(sign);
    if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let dp = usize::try_from(dp).unwrap_or(0);
        if digits.len() <= dp {
            out.push_str(digits);
            for _ in digits.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..dp]);
            out.push('.');
            out.push_str(&digits[dp..]);
        }
    }
    out
}

/// go-units `HumanDuration`: `Less than a second`, `1 second`, `About a minute`, `2 hours`,
/// `3 days`, `2 weeks`, `5 months`, `2 years`, with its exact thresholds and rounding.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds < 1 {
        return "Less than a second".to_owned();
    }
    if seconds == 1 {
        return "1 second".to_owned();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = seconds / 60;
    if minutes == 1 {
        return "About a minute".to_owned();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    // Go: int(d.Hours() + 0.5), rounding to the nearest hour.
    let hours_exact = d.as_secs_f64() / 3600.0;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let hours = (hours_exact + 0.5) as u64;
    if hours == 1 {
        return "About an hour".to_owned();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole_hours = hours_exact as u64;
    format!("{} years", whole_hours / 24 / 365)
}

/// `"<duration> ago"`, as docker's CREATED columns print an instant relative to `now`.
pub fn time_ago(then: Timestamp, now: Timestamp) -> String {
    format!("{} ago", human_duration(then.elapsed_until(now)))
}

/// A container's state as the STATUS column needs it, with the instants it is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusSummary {
    /// Created and never started.
    Created,
    /// Running since `started_at`.
    Running {
        /// When the main process started.
        started_at: Timestamp,
    },
    /// Running but frozen, since `started_at`.
    Paused {
        /// When the main process started.
        started_at: Timestamp,
    },
    /// Waiting to be restarted by its restart policy after exiting with `exit_code`.
    Restarting {
        /// The last exit code.
        exit_code: i32,
        /// When it last exited.
        finished_at: Timestamp,
    },
    /// Stopped after the main process exited with `exit_code`.
    Exited {
        /// The main process's exit code.
        exit_code: i32,
        /// When it exited.
        finished_at: Timestamp,
    },
    /// Being removed.
    RemovalInProgress,
    /// Dead: removal failed half-way.
    Dead,
}

impl StatusSummary {
    /// The STATUS text docker's daemon computes (`State.String`): `Up 2 minutes`,
    /// `Up 5 seconds (Paused)`, `Exited (3) 5 seconds ago`, `Created`, …
    pub fn render(&self, now: Timestamp) -> String {
        match *self {
            Self::Created => "Created".to_owned(),
            Self::Running { started_at } => {
                format!("Up {}", human_duration(started_at.elapsed_until(now)))
            }
            Self::Paused { started_at } => {
                format!(
                    "Up {} (Paused)",
                    human_duration(started_at.elapsed_until(now))
                )
            }
            Self::Restarting {
                exit_code,
                finished_at,
            } => format!(
                "Restarting ({exit_code}) {} ago",
                human_duration(finished_at.elapsed_until(now))
            ),
            Self::Exited {
                exit_code,
                finished_at,
            } => format!(
                "Exited ({exit_code}) {} ago",
                human_duration(finished_at.elapsed_until(now))
            ),
            Self::RemovalInProgress => "Removal In Progress".to_owned(),
            Self::Dead => "Dead".to_owned(),
        }
    }

    /// The one-word state docker reports as `.State` (`created`, `running`, `exited`, …).
    pub const fn state_name(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running { .. } => "running",
            Self::Paused { .. } => "paused",
            Self::Restarting { .. } => "restarting",
            Self::Exited { .. } => "exited",
            Self::RemovalInProgress => "removing",
            Self::Dead => "dead",
        }
    }
}

/// go-units' `RAMInBytes`, which docker's `--memory` and `--memory-swap` take: a decimal number
/// with an optional binary unit (`64m`, `1.5GiB`, `512 kb`); the error is go-units' text.
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size: '{s}'");
    // `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`
    let number_end = s
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
        .map_or(s.len(), |(i, _)| i);
    let (number, rest) = s.split_at(number_end);
    let well_formed = number.split('.').all(|part| !part.is_empty());
    if number.is_empty() || !well_formed {
        return Err(invalid());
    }
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut chars = rest.chars().peekable();
    let shift = match chars.peek().map(char::to_ascii_lowercase) {
        Some(c @ ('k' | 'm' | 'g' | 't' | 'p')) => {
            chars.next();
            10 * (1 + "kmgtp".find(c).unwrap_or(0))
        }
        _ => 0,
    };
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'i')) {
        chars.next();
    }
    if chars.peek().is_some_and(|c| c.eq_ignore_ascii_case(&'b')) {
        chars.next();
    }
    if chars.next().is_some() {
        return Err(invalid());
    }
    let value: f64 = number
        .parse()
        .map_err(|_| format!("strconv.ParseFloat: parsing {number:?}: invalid syntax"))?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let bytes = (value * (1u64 << shift) as f64) as i64;
    Ok(bytes)
}

/// docker's `--cpus` (`opts.NanoCPUs`): a rational number (`1.5`, `2.5e-1`, `3/2`) of CPUs, as
/// billionths of a CPU; finer than that is docker's `value is too precise`.
pub fn nano_cpus(text: &str) -> Result<i64, String> {
    let unparsable = || format!("failed to parse {text} as a rational number");
    // value = numerator * 10^exponent / denominator
    let (numerator, exponent, denominator): (i128, i32, i128) = if let Some((top, bottom)) =
        text.split_once('/')
    {
        let top: i128 = top.parse().map_err(|_| unparsable())?;
        if !bottom.bytes().all(|c| c.is_ascii_digit()) {
            return Err(unparsable());
        }
        let bottom: i128 = bottom.parse().map_err(|_| unparsable())?;
        if bottom == 0 {
            return Err(unparsable());
        }
        (top, 0, bottom)
    } else {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(at) => (
                &text[..at],
                text[at + 1..].parse::<i32>().map_err(|_| unparsable())?,
            ),
            None => (text, 0),
        };
        let (negative, digits) = match mantissa.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |part: &str| part.bytes().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction)
        {
            return Err(unparsable());
        }
        let joined = format!("{whole}{fraction}");
        let joined = joined.trim_start_matches('0');
        if joined.len() > 30 || !(-60..=60).contains(&exponent) {
            return Err(unparsable());
        }
        let magnitude: i128 = if joined.is_empty() {
            0
        } else {
            joined.parse().map_err(|_| unparsable())?
        };
        let shift = i32::try_from(fraction.len()).map_err(|_| unparsable())?;
        let signed = if negative { -magnitude } else { magnitude };
        (signed, exponent - shift, 1)
    };
    // billionths = numerator * 10^(exponent + 9) / denominator, exactly
    let scale = exponent + 9;
    let power = 10i128
        .checked_pow(scale.unsigned_abs())
        .ok_or_else(unparsable)?;
    let (top, bottom) = if scale >= 0 {
        (
            numerator.checked_mul(power).ok_or_else(unparsable)?,
            denominator,
        )
    } else {
        (
            numerator,
            denominator.checked_mul(power).ok_or_else(unparsable)?,
        )
    };
    if top % bottom != 0 {
        return Err("value is too precise".to_owned());
    }
    i64::try_from(top / bottom).map_err(|_| unparsable())
}

/// Days from 1970-01-01 to the civil date (Howard Hinnant's `days_from_civil`), for reading
/// RFC 3339 times without a clock.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_go_units() {
        let cases: &[(u64, &str)] = &[
            (0, "0B"),
            (3, "3B"),
            (29, "29B"),
            (999, "999B"),
            (1000, "1kB"),
            (1024, "1.02kB"),
            (12_345, "12.3kB"),
            (100_500, "100kB"), // exact tie rounds to even, as Go does
            (101_500, "102kB"),
            (999_500, "1e+03kB"), // Go's %g switches to exponent form here
            (1_990_000, "1.99MB"),
            (1_994_999, "1.99MB"),
            (1_995_001, "2MB"),
            (4_860_000, "4.86MB"),
            (1_000_000_000, "1GB"),
            (u64::MAX, "18.4EB"),
        ];
        for (bytes, want) in cases {
            assert_eq!(human_size(*bytes), *want, "{bytes}");
        }
    }

    #[test]
    fn four_digit_sizes() {
        assert_eq!(human_size_4(16_430_000), "16.43MB");
        assert_eq!(human_size_4(11_625_000), "11.62MB");
        assert_eq!(human_size_4(36), "36B");
        assert_eq!(human_size_4(0), "0B");
        assert_eq!(human_size(16_430_000), "16.4MB");
    }

    #[test]
    fn go_g_format() {
        assert_eq!(go_format_g(0.000_012_3, 3), "1.23e-05");
        assert_eq!(go_format_g(0.001_23, 3), "0.00123");
        assert_eq!(go_format_g(-12.5, 3), "-12.5");
        assert_eq!(go_format_g(120.0, 3), "120");
        assert_eq!(go_format_g(1234.0, 3), "1.23e+03");
        assert_eq!(go_format_g(1234.0, 4), "1234");
        assert_eq!(go_format_float(1.5), "1.5");
        assert_eq!(go_format_float(1e6), "1e+06");
        assert_eq!(go_format_float(123_456.0), "123456");
        assert_eq!(go_format_float(0.1), "0.1");
        assert_eq!(go_format_float(0.000_01), "1e-05");
    }

    #[test]
    fn durations_match_go_units() {
        let s = Duration::from_secs;
        let cases: &[(Duration, &str)] = &[
            (Duration::from_millis(999), "Less than a second"),
            (s(1), "1 second"),
            (s(59), "59 seconds"),
            (s(60), "About a minute"),
            (s(119), "About a minute"),
            (s(120), "2 minutes"),
            (s(3599), "59 minutes"),
            (s(3600), "About an hour"),
            (s(5399), "About an hour"),
            (s(5400), "2 hours"),
            (s(47 * 3600), "47 hours"),
            (s(48 * 3600 - 1800), "2 days"),
            (s(13 * 86400), "13 days"),
            (s(14 * 86400), "2 weeks"),
            (s(59 * 86400), "8 weeks"),
            (s(60 * 86400), "2 months"),
            (s(729 * 86400), "24 months"),
            (s(730 * 86400), "2 years"),
        ];
        for (d, want) in cases {
            assert_eq!(human_duration(*d), *want, "{d:?}");
        }
    }

    #[test]
    fn statuses() {
        let now = Timestamp::from_unix_secs(1_000_000);
        let ago = |secs| now.minus(Duration::from_secs(secs));
        assert_eq!(StatusSummary::Created.render(now), "Created");
        assert_eq!(
            StatusSummary::Running {
                started_at: ago(120)
            }
            .render(now),
            "Up 2 minutes"
        );
        assert_eq!(
            StatusSummary::Paused { started_at: ago(1) }.render(now),
            "Up 1 second (Paused)"
        );
        assert_eq!(
            StatusSummary::Exited {
                exit_code: 3,
                finished_at: ago(5)
            }
            .render(now),
            "Exited (3) 5 seconds ago"
        );
        assert_eq!(time_ago(ago(75), now), "About a minute ago");
        let t = Timestamp(1_500_000_000_999_999_999);
        assert_eq!(t.whole_seconds(), Timestamp::from_unix_secs(1_500_000_000));
        assert_eq!(Timestamp(-1).whole_seconds(), Timestamp::from_unix_secs(-1));
        assert_eq!(time_ago(now, now), "Less than a second ago");
        // A clock that went backwards shows no negative time.
        assert_eq!(
            time_ago(ago(0).minus(Duration::ZERO), ago(10)),
            "Less than a second ago"
        );
    }
    #[test]
    fn ram_sizes_as_go_units_reads_them() {
        assert_eq!(ram_in_bytes("64m"), Ok(64 << 20));
        assert_eq!(ram_in_bytes("32M"), Ok(32 << 20));
        assert_eq!(ram_in_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(ram_in_bytes("512 kb"), Ok(512 << 10));
        assert_eq!(ram_in_bytes("100"), Ok(100));
        assert_eq!(ram_in_bytes("7b"), Ok(7));
        for bad in ["x", "-1", "", "1x", "m", "1.", "1mm", "1 m b"] {
            assert_eq!(
                ram_in_bytes(bad),
                Err(format!("invalid size: '{bad}'")),
                "{bad}"
            );
        }
        assert_eq!(
            ram_in_bytes("1.2.3k"),
            Err("strconv.ParseFloat: parsing \"1.2.3\": invalid syntax".to_owned())
        );
    }

    #[test]
    fn cpus_as_rationals_in_billionths() {
        assert_eq!(nano_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(nano_cpus("0.01"), Ok(10_000_000));
        assert_eq!(nano_cpus("2"), Ok(2_000_000_000));
        assert_eq!(nano_cpus("3/2"), Ok(1_500_000_000));
        assert_eq!(nano_cpus("2.5e-1"), Ok(250_000_000));
        assert_eq!(nano_cpus(".5"), Ok(500_000_000));
        assert_eq!(nano_cpus("-1"), Ok(-1_000_000_000));
        assert_eq!(
            nano_cpus("0.0000000001"),
            Err("value is too precise".to_owned())
        );
        assert_eq!(nano_cpus("1/3"), Err("value is too precise".to_owned()));
        for bad in ["x", "", "1/0", "1.5.5", "e3"] {
            assert_eq!(
                nano_cpus(bad),
                Err(format!("failed to parse {bad} as a rational number")),
                "{bad}"
            );
        }
    }
}
