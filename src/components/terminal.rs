//! The terminal: docker's commands typed at a prompt and run by the simulated engine in the
//! worker, its output exactly as the core prints it (stderr in its own colour), history on the
//! arrow keys, Tab completion, Ctrl-C, Ctrl-L, copy and paste. A build's output is played
//! back as it ran: only as much of it shows as the playback's beat has reached.

use wasm_bindgen::JsCast as _;
use web_sys::{HtmlElement, HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

use super::speed::{SpeedProps, speed_control};
use crate::state::{Line, LineKind, Terminal as Term};

/// Properties of [`Terminal`].
#[derive(Properties, PartialEq)]
pub struct TerminalProps {
    /// Transcript, line, history, prompt.
    pub term: Term,
    /// The line changed.
    pub oninput: Callback<String>,
    /// Enter: run the line.
    pub onsubmit: Callback<String>,
    /// Arrow up (`true`) or down.
    pub onrecall: Callback<bool>,
    /// Ctrl-C with nothing selected.
    pub oncancel: Callback<()>,
    /// Ctrl-L.
    pub onclear: Callback<()>,
    /// Tab, with the cursor's byte offset in the line.
    pub oncomplete: Callback<usize>,
    /// A rootfs tarball was picked to import as an image (`docker import`).
    #[prop_or_default]
    pub onimportimage: Callback<Event>,
    /// While a build plays back: its command's number and how many bytes of its output show.
    #[prop_or_default]
    pub reveal: Option<(u64, usize)>,
    /// Whether the playback waits for Next (step by step): then Enter on an empty line is Next.
    #[prop_or_default]
    pub stepping: bool,
    /// The speed control in the panel's heading (its Next is also Enter on an empty line).
    #[prop_or_default]
    pub speed: SpeedProps,
}

fn kind_class(kind: LineKind) -> &'static str {
    match kind {
        LineKind::Input => "t-input",
        LineKind::Stdout => "t-out",
        LineKind::Stderr => "t-err",
        LineKind::Notice => "t-notice",
        LineKind::Info => "t-info",
    }
}

/// The transcript's pieces as shown: the output of the command being played back cut after
/// `reveal` bytes (at a character boundary), the rest whole (the page's own lines too: a `^C` or
/// completions typed meanwhile).
pub fn shown_lines(lines: &[Line], reveal: Option<(u64, usize)>) -> Vec<(LineKind, &str)> {
    let mut left = reveal.map_or(0, |(_, n)| n);
    lines
        .iter()
        .filter_map(|l| match reveal {
            Some((id, _)) if l.id == id && !matches!(l.kind, LineKind::Input | LineKind::Info) => {
                let mut cut = left.min(l.text.len());
                while !l.text.is_char_boundary(cut) {
                    cut -= 1;
                }
                left -= cut;
                (cut > 0).then(|| (l.kind, &l.text[..cut]))
            }
            _ => Some((l.kind, l.text.as_str())),
        })
        .collect()
}

/// The byte offset of UTF-16 position `units` in `text`.
pub fn byte_offset(text: &str, units: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16();
    }
    text.len()
}

/// Whether the page has text selected (then Ctrl-C copies it).
fn has_selection(input: &HtmlInputElement) -> bool {
    let in_input = matches!(
        (input.selection_start(), input.selection_end()),
        (Ok(Some(a)), Ok(Some(b))) if a != b
    );
    in_input
        || web_sys::window()
            .and_then(|w| w.get_selection().ok().flatten())
            .is_some_and(|s| !s.is_collapsed())
}

/// The terminal panel.
#[function_component(Terminal)]
pub fn terminal(props: &TerminalProps) -> Html {
    let input_ref = use_node_ref();
    let screen = use_node_ref();
    {
        let screen = screen.clone();
        use_effect_with(
            (
                props.term.lines.len(),
                props.term.input.clone(),
                props.reveal,
            ),
            move |_| {
                if let Some(el) = screen.cast::<HtmlElement>() {
                    el.set_scroll_top(el.scroll_height());
                }
            },
        );
    }
    let onkeydown = {
        let (onsubmit, onrecall, oncancel, onclear, oncomplete, onnext) = (
            props.onsubmit.clone(),
            props.onrecall.clone(),
            props.oncancel.clone(),
            props.onclear.clone(),
            props.oncomplete.clone(),
            props.speed.onnext.clone(),
        );
        let stepping = props.stepping;
        Callback::from(move |e: KeyboardEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let ctrl = e.ctrl_key() || e.meta_key();
            match e.key().as_str() {
                "Enter" if stepping && input.value().is_empty() => {
                    e.prevent_default();
                    onnext.emit(());
                }
                "Enter" => {
                    e.prevent_default();
                    onsubmit.emit(input.value());
                }
                "ArrowUp" | "ArrowDown" => {
                    e.prevent_default();
                    onrecall.emit(e.key() == "ArrowUp");
                }
                "Tab" if !e.shift_key() => {
                    e.prevent_default();
                    let value = input.value();
                    let units = input
                        .selection_start()
                        .ok()
                        .flatten()
                        .map_or(value.len(), |u| u as usize);
                    oncomplete.emit(byte_offset(&value, units));
                }
                "c" | "C" if ctrl && !has_selection(&input) => {
                    e.prevent_default();
                    oncancel.emit(());
                }
                "l" | "L" if ctrl => {
                    e.prevent_default();
                    onclear.emit(());
                }
                _ => {}
            }
        })
    };
    let oninput = {
        let oninput = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            oninput.emit(e.target_unchecked_into::<HtmlInputElement>().value());
        })
    };
    // A pasted block of lines runs line by line; the last, unfinished one stays typed.
    let onpaste = {
        let (onsubmit, oninput) = (props.onsubmit.clone(), props.oninput.clone());
        Callback::from(move |e: Event| {
            let Some(text) = e
                .dyn_ref::<web_sys::ClipboardEvent>()
                .and_then(web_sys::ClipboardEvent::clipboard_data)
                .and_then(|d| d.get_data("text").ok())
            else {
                return;
            };
            if !text.contains('\n') {
                return;
            }
            e.prevent_default();
            let input: HtmlInputElement = e.target_unchecked_into();
            let value = input.value();
            let units = input
                .selection_start()
                .ok()
                .flatten()
                .map_or(value.len(), |u| u as usize);
            let at = byte_offset(&value, units);
            let whole = format!(
                "{}{}{}",
                &value[..at],
                text.replace("\r\n", "\n"),
                &value[at..]
            );
            let mut lines: Vec<&str> = whole.split('\n').collect();
            let last = lines.pop().unwrap_or_default();
            for line in lines {
                onsubmit.emit(line.to_owned());
            }
            oninput.emit(last.to_owned());
        })
    };
    let focus = {
        let input_ref = input_ref.clone();
        Callback::from(move |_: MouseEvent| {
            let selecting = web_sys::window()
                .and_then(|w| w.get_selection().ok().flatten())
                .is_some_and(|s| !s.is_collapsed());
            if let (false, Some(input)) = (selecting, input_ref.cast::<HtmlInputElement>()) {
                let _ = input.focus();
            }
        })
    };
    let term = &props.term;
    html! {
        <section class="panel terminal" aria-label="Terminal">
            <h2>{ "Terminal" }
                <span class="note">{ "docker commands on the simulated engine in this page" }</span>
                if term.pending > 0 || props.reveal.is_some() {
                    <span class="running">{ "running…" }</span>
                }
                { speed_control(&props.speed) }
                <label class="button import-image"
                    title="docker import: a root filesystem tarball (.tar, .tar.gz) becomes an image">
                    { "Import a rootfs tarball" }
                    <input id="import-image" type="file" accept=".tar,.tgz,.gz,application/x-tar"
                        onchange={props.onimportimage.clone()}
                        aria-label="Import a rootfs tarball as an image" />
                </label>
            </h2>
            <div class="screen" ref={screen} onclick={focus}>
                <pre id="transcript" aria-live="polite">
                    { for shown_lines(&term.lines, props.reveal).into_iter().map(|(kind, text)| html! {
                        <span class={kind_class(kind)}>{ text }</span>
                    }) }
                </pre>
                <div class="prompt-line">
                    <span class="prompt">{ term.prompt() }</span>
                    <input id="terminal-input" ref={input_ref} type="text" value={term.input.clone()}
                        autocomplete="off" autocapitalize="off" spellcheck="false"
                        aria-label={if term.shell.is_some() { "Shell command line" } else { "Command line" }}
                        placeholder={if props.stepping {
                            "Enter: next step of the build"
                        } else if term.lines.is_empty() && term.input.is_empty() {
                            "docker build -t my-app .   (Tab completes, ↑ recalls)"
                        } else { "" }}
                        {onkeydown} {oninput} {onpaste} />
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::{Line, LineKind, byte_offset, shown_lines};

    #[test]
    fn a_played_back_command_shows_only_what_its_beat_reached() {
        let line = |id, kind, text: &str| Line {
            id,
            kind,
            text: text.into(),
        };
        let lines = [
            line(1, LineKind::Input, "$ docker build .\n"),
            line(1, LineKind::Stderr, "#1 a\n#1 DONE\n"),
            line(1, LineKind::Notice, "note é\n"),
            line(2, LineKind::Input, "$ ls\n"),
        ];
        let texts =
            |r| -> Vec<&str> { shown_lines(&lines, r).into_iter().map(|(_, t)| t).collect() };
        assert_eq!(texts(None).len(), 4);
        assert_eq!(
            texts(Some((1, 5))),
            ["$ docker build .\n", "#1 a\n", "$ ls\n"]
        );
        assert_eq!(
            texts(Some((1, 19))),
            ["$ docker build .\n", "#1 a\n#1 DONE\n", "note ", "$ ls\n"] // 19 bytes end inside the é
        );
        assert_eq!(texts(Some((1, 20)))[2], "note é");
        assert_eq!(texts(Some((1, 17)))[2], "note");
        assert_eq!(texts(Some((3, 0))).len(), 4);
        // What the page says meanwhile (completions, `^C`) shows at once.
        let typed = [
            line(1, LineKind::Stderr, "#1 a\n"),
            line(1, LineKind::Info, "start  stop\n"),
        ];
        let shown: Vec<&str> = shown_lines(&typed, Some((1, 0)))
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(shown, ["start  stop\n"]);
    }

    #[test]
    fn utf16_positions_become_byte_offsets() {
        assert_eq!(byte_offset("docker", 3), 3);
        assert_eq!(byte_offset("é x", 1), 2);
        assert_eq!(byte_offset("😀x", 2), 4);
        assert_eq!(byte_offset("ab", 9), 2);
        assert_eq!(byte_offset("", 0), 0);
    }
}
