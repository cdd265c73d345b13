//! "did you mean" suggestions, as BuildKit's `suggest` package gives them.

/// Levenshtein distance between two strings, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The option closest to `value` within edit distance 2 (ties: the first option in order), like
/// BuildKit's `suggest.WrapError`.
pub fn search(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let value = if case_sensitive {
        value.to_string()
    } else {
        value.to_lowercase()
    };
    let mut best: Option<(usize, &str)> = None;
    for &option in options {
        let o = if case_sensitive {
            option.to_string()
        } else {
            option.to_lowercase()
        };
        if o == value {
            return None; // an exact match means the error is about something else
        }
        let d = distance(&value, &o);
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, option));
        }
    }
    best.map(|(_, o)| o.to_string())
}

/// ` (did you mean x?)` or nothing.
pub fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            search("mont", &["mount", "network"], true).as_deref(),
            Some("mount")
        );
        assert_eq!(
            search("FNTRYPOINT", &["entrypoint"], false).as_deref(),
            Some("entrypoint")
        );
        assert_eq!(search("xyz", &["mount"], true), None);
    }
}
