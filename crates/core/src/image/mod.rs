//! The image model: content digests, image references, the OCI image config with its history,
//! and sizes as docker reports them.
//!
//! ```
//! use layerbox_core::image::{human_size, Reference};
//! let r: Reference = "python:3.9-slim".parse().unwrap();
//! assert_eq!(r.name(), "docker.io/library/python");
//! assert_eq!(human_size(1_985_626), "1.99MB");
//! ```

pub mod archive;
mod config;
mod digest;
mod reference;

pub use config::{ConfigError, ContainerConfig, Empty, Healthcheck, History, ImageConfig, RootFs};
pub use digest::{Digest, DigestError, DigestWriter};
pub use reference::{DEFAULT_DOMAIN, DEFAULT_TAG, Reference, ReferenceError};

/// The size of an image as `docker images` reports it: the sum of its layers' sizes
/// (see `fs::Layer::size`).
pub fn image_size(layer_sizes: impl IntoIterator<Item = u64>) -> u64 {
    layer_sizes.into_iter().sum()
}

/// A byte count the way docker prints sizes (`units.HumanSizeWithPrecision(n, 3)`): decimal
/// units and three significant digits, `0B`, `29B`, `1.99MB`, `120kB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    #[allow(clippy::cast_precision_loss)] // sizes print with 3 significant digits
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_format_g3(size), UNITS[unit])
}

/// Go's `%.3g` for a non-negative finite value.
fn go_format_g3(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    // `{:.2e}` rounds to three significant digits, as `%.3g` does, and tells the exponent.
    let sci = format!("{value:.2e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if !(-4..3).contains(&exponent) {
        let mantissa = trim_fraction(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = usize::try_from(2 - exponent).unwrap_or(0);
    trim_fraction(&format!("{value:.decimals$}")).to_owned()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_docker() {
        let cases = [
            (0, "0B"),
            (3, "3B"),
            (29, "29B"),
            (999, "999B"),
            (1000, "1kB"),
            (1234, "1.23kB"),
            (120_000, "120kB"),
            (1_985_626, "1.99MB"),
            (2_140_160, "2.14MB"),
            (999_600, "1e+03kB"),
            (77_800_000, "77.8MB"),
            (1_000_000_000, "1GB"),
        ];
        for (n, want) in cases {
            assert_eq!(human_size(n), want, "{n}");
        }
        assert_eq!(image_size([1, 2, 3]), 6);
    }
}
