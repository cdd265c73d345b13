//! The prunes' `--filter`s as dockerd reads them: `until` (a Go duration back from now, a Unix
//! timestamp, or an RFC 3339 date), `label` and `label!` (`key` or `key=value`), and for images
//! `dangling`; any other name is dockerd's `invalid filter`.

use std::collections::BTreeMap;

use crate::cli::command::Filter;
use crate::cli::units::Timestamp;

/// What a prune keeps out of its reach.
#[derive(Debug, Default)]
pub(crate) struct PruneFilter {
    /// Only what was created before.
    until: Option<Timestamp>,
    /// Only what has each of these labels (`key`, or `key` with the value).
    labels: Vec<(String, Option<String>)>,
    /// Only what has none of these.
    not_labels: Vec<(String, Option<String>)>,
    /// `dangling=false`: images with tags too (as `-a`).
    pub(crate) all_images: bool,
}

impl PruneFilter {
    /// Reads `filters` for a prune that accepts the names in `accepted`; `now` anchors
    /// durations. Errors are dockerd's texts.
    pub(crate) fn parse(
        filters: &[Filter],
        accepted: &[&str],
        now: Timestamp,
    ) -> Result<Self, String> {
        let mut f = Self::default();
        for Filter { name, value } in filters {
            if !accepted.contains(&name.as_str()) {
                return Err(format!("invalid filter '{name}'"));
            }
            let label = || match value.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (value.clone(), None),
            };
            match name.as_str() {
                "until" => f.until = Some(timestamp(value, now)?),
                "label" => f.labels.push(label()),
                "label!" => f.not_labels.push(label()),
                "dangling" => match value.as_str() {
                    "true" | "1" => f.all_images = false,
                    "false" | "0" => f.all_images = true,
                    _ => {
                        return Err(format!(
                            "invalid filter 'dangling={value}': invalid value for 'dangling': {value}"
                        ));
                    }
                },
                _ => return Err(format!("invalid filter '{name}'")),
            }
        }
        Ok(f)
    }

    /// Whether something created at `created` with `labels` may go.
    pub(crate) fn admits(
        &self,
        created: Timestamp,
        labels: Option<&BTreeMap<String, String>>,
    ) -> bool {
        let has = |(k, v): &(String, Option<String>)| {
            labels
                .and_then(|l| l.get(k))
                .is_some_and(|got| v.as_ref().is_none_or(|want| want == got))
        };
        self.until.is_none_or(|until| created.0 < until.0)
            && self.labels.iter().all(has)
            && !self.not_labels.iter().any(has)
    }
}

/// moby's `GetTimestamp`: a Go duration before `now` (`24h`, `1h30m`), a Unix timestamp
/// (`1700000000`, `1700000000.5`) or an RFC 3339 date or time (UTC in the simulation).
fn timestamp(value: &str, now: Timestamp) -> Result<Timestamp, String> {
    if value != "0"
        && let Some(nanos) = go_duration(value)
    {
        return Ok(Timestamp(now.0.saturating_sub(nanos)));
    }
    let bad = || format!("failed to parse value as time or duration: {value:?}");
    if value.contains('-') {
        return rfc3339(value).ok_or_else(|| format!("parsing time {value:?}: cannot parse"));
    }
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let frac_nanos: i64 = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        digits.parse().map_err(|_| bad())?
    };
    Ok(Timestamp(
        secs.saturating_mul(1_000_000_000)
            .saturating_add(frac_nanos),
    ))
}

/// Go's `time.ParseDuration` for what people type: numbers (with fractions) with `ns`, `us`,
/// `ms`, `s`, `m`, `h`; in nanoseconds.
fn go_duration(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total.min(9.2e18) as i64;
    Some(if negative { -nanos } else { nanos })
}

/// `2026-11-27`, `2026-11-27T10:00:00`, with `Z` or `±hh:mm`, fractions of a second allowed.
fn rfc3339(text: &str) -> Option<Timestamp> {
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = text.split_once('T').unwrap_or((text, ""));
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (
        num(parts.next()?)?,
        num(parts.next()?)?,
        num(parts.next()?)?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (mut secs, mut offset) = (0, 0);
    if !time.is_empty() {
        let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
            Some(i) => time.split_at(i),
            None => (time, ""),
        };
        let clock = clock.split_once('.').map_or(clock, |(c, _)| c);
        let mut fields = clock.splitn(3, ':');
        let (hour, minute) = (num(fields.next()?)?, num(fields.next()?)?);
        let second = fields.next().map_or(Some(0), num)?;
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        secs = hour * 3600 + minute * 60 + second;
        if let Some(z) = zone.strip_prefix(['+', '-']) {
            let (zh, zm) = z.split_once(':').unwrap_or((z, "0"));
            offset = num(zh)? * 3600 + num(zm)? * 60;
            if zone.starts_with('-') {
                offset = -offset;
            }
        } else if !(zone.is_empty() || zone.eq_ignore_ascii_case("z")) {
            return None;
        }
    }
    let days = crate::cli::units::days_from_civil(year, month, day);
    Some(Timestamp::from_unix_secs(days * 86_400 + secs - offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(list: &[(&str, &str)]) -> Vec<Filter> {
        list.iter()
            .map(|(n, v)| Filter {
                name: (*n).to_owned(),
                value: (*v).to_owned(),
            })
            .collect()
    }

    const ACCEPTED: &[&str] = &["until", "label", "label!"];

    #[test]
    fn times_and_durations_as_moby_reads_them() {
        let now = Timestamp::from_unix_secs(1_800_000_000);
        let t = |v: &str| timestamp(v, now).map(Timestamp::unix_secs);
        assert_eq!(t("24h"), Ok(1_800_000_000 - 86_400));
        assert_eq!(t("1h30m"), Ok(1_800_000_000 - 5_400));
        assert_eq!(t("1700000000"), Ok(1_700_000_000));
        assert_eq!(t("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(t("2023-11-14T23:13:20+01:00"), Ok(1_700_000_000));
        assert_eq!(t("1970-01-02"), Ok(86_400));
        assert_eq!(
            t("soon"),
            Err(r#"failed to parse value as time or duration: "soon""#.to_owned())
        );
    }

    #[test]
    fn labels_until_and_unknown_names() {
        let now = Timestamp::from_unix_secs(1000);
        let f = PruneFilter::parse(
            &filters(&[("label", "team=web"), ("label!", "keep"), ("until", "100s")]),
            ACCEPTED,
            now,
        )
        .unwrap();
        let labels = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let old = Timestamp::from_unix_secs(800);
        let new = Timestamp::from_unix_secs(950);
        assert!(f.admits(old, Some(&labels(&[("team", "web")]))));
        assert!(!f.admits(new, Some(&labels(&[("team", "web")]))), "too new");
        assert!(
            !f.admits(old, Some(&labels(&[("team", "db")]))),
            "other value"
        );
        assert!(!f.admits(old, None), "no labels");
        assert!(
            !f.admits(old, Some(&labels(&[("team", "web"), ("keep", "")]))),
            "label! excludes"
        );
        assert_eq!(
            PruneFilter::parse(&filters(&[("name", "x")]), ACCEPTED, now).unwrap_err(),
            "invalid filter 'name'"
        );
    }
}
