//! Go durations (`30s`, `1m30s`, `500ms`) for HEALTHCHECK options: parsing like Go's
//! `time.ParseDuration` and printing like `time.Duration.String`.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{opt, recognize};

/// Parses a Go duration into nanoseconds; the error is Go's message.
pub fn parse_go_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let invalid = || {
        format!(
            "time: invalid duration {}",
            crate::dockerfile::quote::go_quote(orig)
        )
    };
    let (mut rest, neg) = match s.as_bytes().first() {
        Some(b'-') => (&s[1..], true),
        Some(b'+') => (&s[1..], false),
        _ => (s, false),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number: IResult<&str, &str> = recognize((
            take_while(|c: char| c.is_ascii_digit()),
            opt((char('.'), take_while(|c: char| c.is_ascii_digit()))),
        ))
        .parse(rest);
        let Ok((after, num)) = number else {
            return Err(invalid());
        };
        if num.is_empty() || num == "." {
            return Err(invalid());
        }
        let unit: IResult<&str, &str> =
            take_while1(|c: char| c != '.' && !c.is_ascii_digit()).parse(after);
        let Ok((after, unit)) = unit else {
            return Err(format!(
                "time: missing unit in duration {}",
                crate::dockerfile::quote::go_quote(orig)
            ));
        };
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::dockerfile::quote::go_quote(unit),
                    crate::dockerfile::quote::go_quote(orig)
                ));
            }
        };
        let value: f64 = num.parse().map_err(|_| invalid())?;
        total += value * scale;
        rest = after;
    }
    if total > 9.223_372_036_854_775e18 {
        return Err(invalid());
    }
    #[allow(clippy::cast_possible_truncation)] // range checked above
    let nanos = total.round() as i64;
    Ok(if neg { -nanos } else { nanos })
}

/// Formats nanoseconds like Go's `Duration.String` (`0s`, `1m30s`, `5m0s`, `100ms`).
pub fn format_go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_string();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    if n < 1_000_000_000 {
        let (unit, div) = if n < 1_000 {
            ("ns", 1)
        } else if n < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction(n, div));
    }
    let h = n / 3_600_000_000_000;
    let m = n / 60_000_000_000 % 60;
    let s = fraction(n % 60_000_000_000, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

fn fraction(n: u64, div: u64) -> String {
    let whole = n / div;
    let frac = n % div;
    if frac == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go() {
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("50ns"), Ok(50));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(
            parse_go_duration("5").unwrap_err(),
            "time: missing unit in duration \"5\""
        );
        assert_eq!(
            parse_go_duration("5x").unwrap_err(),
            "time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            parse_go_duration("x").unwrap_err(),
            "time: invalid duration \"x\""
        );
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go_duration(300_000_000_000), "5m0s");
        assert_eq!(format_go_duration(90_000_000_000), "1m30s");
        assert_eq!(format_go_duration(100_000_000), "100ms");
        assert_eq!(format_go_duration(1_500_000_000), "1.5s");
        assert_eq!(format_go_duration(3_600_000_000_000), "1h0m0s");
    }
}
