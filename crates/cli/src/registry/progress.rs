//! docker's pull and push progress: one line per layer (`5cc84ad355aa: Downloading [==>  ]
//! 1.2MB/2.5MB`), redrawn in place on a terminal; elsewhere each status once on its own line and
//! no progress bars, as docker prints when its output is not a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

use layerbox_core::image::human_size;

/// The display. Shared between download threads behind a `Mutex`.
pub struct Progress {
    out: Box<dyn Write + Send>,
    tty: bool,
    quiet: bool,
    /// Whether [`Progress::result`] prints (not for the pull of a `run`).
    result: bool,
    /// The layer lines shown, in order, and when each last showed a progress bar.
    lines: Vec<(String, Option<Instant>)>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("tty", &self.tty)
            .finish_non_exhaustive()
    }
}

/// docker's progress bar: 50 columns, `=` done, `>` the head, then `current/total`.
pub fn bar(current: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    let done = (current.min(total) * WIDTH)
        .checked_div(total)
        .map_or(0, |d| d.min(WIDTH - 1));
    let done = usize::try_from(done).unwrap_or(0);
    format!(
        "[{}>{}] {:>8}/{}",
        "=".repeat(done),
        " ".repeat(49 - done),
        human_size(current),
        human_size(total)
    )
}

impl Progress {
    /// A display on `out`; `tty`: redraw layer lines in place; `quiet`: print nothing but what
    /// [`Progress::result`] prints.
    pub fn new(out: Box<dyn Write + Send>, tty: bool, quiet: bool) -> Self {
        Self {
            out,
            tty,
            quiet,
            result: true,
            lines: Vec::new(),
        }
    }

    /// The same display without the last line ([`Progress::result`]): `run` and `create` show
    /// the pull of a missing image and then their own output, as docker does.
    #[must_use]
    pub fn without_result(mut self) -> Self {
        self.result = false;
        self
    }

    /// On stdout, redrawn when it is a terminal.
    pub fn stdout(quiet: bool) -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal();
        Self::new(Box::new(std::io::stdout()), tty, quiet)
    }

    /// A line of its own (`latest: Pulling from library/busybox`, `Digest: …`).
    pub fn line(&mut self, text: &str) {
        if !self.quiet {
            let _ = writeln!(self.out, "{text}");
            let _ = self.out.flush();
        }
        // later layer lines start below this one
        self.lines.clear();
    }

    /// The last line, printed even when quiet (the image's name).
    pub fn result(&mut self, text: &str) {
        if !self.result {
            return;
        }
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// A layer's status (`Pulling fs layer`, `Download complete`, …).
    pub fn status(&mut self, id: &str, status: &str) {
        self.show(id, status, false);
    }

    /// A layer's progress (`Downloading`, `Extracting`, `Pushing`): drawn on a terminal only,
    /// at most ten times a second per layer.
    pub fn progress(&mut self, id: &str, action: &str, current: u64, total: u64) {
        if !self.tty || self.quiet {
            return;
        }
        let now = Instant::now();
        let recent = self
            .lines
            .iter()
            .find(|(l, _)| l == id)
            .and_then(|(_, t)| *t)
            .is_some_and(|t| now.duration_since(t) < Duration::from_millis(100));
        if recent && current < total {
            return;
        }
        self.show(id, &format!("{action} {}", bar(current, total)), true);
    }

    fn show(&mut self, id: &str, text: &str, is_progress: bool) {
        if self.quiet {
            return;
        }
        let line = format!("{id}: {text}");
        let at = self.lines.iter().position(|(l, _)| l == id);
        let stamp = is_progress.then(Instant::now);
        match at {
            Some(i) if self.tty => {
                self.lines[i].1 = stamp;
                let up = self.lines.len() - i;
                let _ = write!(self.out, "\x1b[{up}A\r\x1b[2K{line}\r\x1b[{up}B");
            }
            _ => {
                if at.is_none() {
                    self.lines.push((id.to_owned(), stamp));
                }
                let _ = writeln!(self.out, "{line}");
            }
        }
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_bar_is_dockers() {
        assert_eq!(
            bar(1_200_000, 2_400_000),
            format!("[{}>{}]    1.2MB/2.4MB", "=".repeat(25), " ".repeat(24))
        );
        assert!(bar(5, 5).starts_with(&format!("[{}>]", "=".repeat(49))));
        assert!(bar(0, 0).starts_with("[>"));
    }

    #[test]
    fn without_a_terminal_each_status_is_a_line_and_bars_are_left_out() {
        let sink = Sink::default();
        let mut p = Progress::new(Box::new(sink.clone()), false, false);
        p.line("latest: Pulling from library/x");
        p.status("aaa", "Pulling fs layer");
        p.progress("aaa", "Downloading", 1, 2);
        p.status("aaa", "Download complete");
        p.result("docker.io/library/x:latest");
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "latest: Pulling from library/x\naaa: Pulling fs layer\naaa: Download complete\ndocker.io/library/x:latest\n"
        );
    }

    #[test]
    fn on_a_terminal_a_layer_line_is_redrawn_in_place() {
        let sink = Sink::default();
        let mut p = Progress::new(Box::new(sink.clone()), true, false);
        p.status("aaa", "Pulling fs layer");
        p.status("bbb", "Pulling fs layer");
        p.status("aaa", "Pull complete");
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "aaa: Pulling fs layer\nbbb: Pulling fs layer\n\x1b[2A\r\x1b[2Kaaa: Pull complete\r\x1b[2B"
        );
    }
}
