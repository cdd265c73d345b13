//! How docker's CLI reports errors the engine returns: the `Error response from daemon:`
//! prefix, the client's own `Error: No such …` for lookups, and `docker run`'s `docker: …`
//! line whose exit code tells a missing command (127) from a non-executable one (126) from
//! any other failure (125).
//!
//! ```
//! use layerbox_core::cli::report::{RunStage, run_failure};
//! let (text, code) = run_failure("docker", "exec: \"x\": executable file not found in $PATH: unknown", RunStage::Start);
//! assert_eq!(text, "docker: Error response from daemon: exec: \"x\": executable file not found in $PATH: unknown.");
//! assert_eq!(code, 127);
//! ```

/// The client's wording of an error the daemon returned.
pub fn daemon_error(message: &str) -> String {
    format!("Error response from daemon: {message}")
}

/// The client's own not-found error, which `rm`, `rmi` and `inspect` print (`Error: No such
/// image: anchors/fail`); other commands print the daemon's `No such container: x` through
/// [`daemon_error`].
pub fn not_found(kind: &str, id: &str) -> String {
    format!("Error: No such {kind}: {id}")
}

/// `docker start a b` when some failed: the daemon's errors, then this line.
pub fn failed_to_start(containers: &[String]) -> String {
    format!(
        "Error: failed to start containers: {}",
        containers.join(", ")
    )
}

/// docker's `reportError`: `docker: <message>.`, with `See 'docker <command> --help'.` when
/// `with_help`.
pub fn report_error(program: &str, command: &str, message: &str, with_help: bool) -> String {
    let message = message.trim_end_matches('.');
    if with_help {
        format!("{program}: {message}.\nSee '{program} {command} --help'.")
    } else {
        format!("{program}: {message}.")
    }
}

/// Where `docker run` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStage {
    /// Creating the container (a name conflict, a missing image): docker adds its help hint.
    Create,
    /// Starting it (the command is missing or not executable).
    Start,
}

/// What `docker run` (or `create`) prints for the daemon's error `message`, and its exit code
/// (docker's `reportError` and `runStartContainerErr`).
pub fn run_failure(program: &str, message: &str, stage: RunStage) -> (String, u8) {
    let text = report_error(
        program,
        "run",
        &daemon_error(message),
        stage == RunStage::Create,
    );
    let code = if [
        "executable file not found",
        "no such file or directory",
        "system cannot find the file specified",
    ]
    .iter()
    .any(|m| message.contains(m))
    {
        127
    } else if message.contains("permission denied") {
        126
    } else {
        125
    };
    (text, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_and_start_failures() {
        assert_eq!(
            not_found("image", "anchors/fail"),
            "Error: No such image: anchors/fail"
        );
        assert_eq!(
            daemon_error("No such container: web"),
            "Error response from daemon: No such container: web"
        );
        assert_eq!(
            failed_to_start(&["a".into(), "b".into()]),
            "Error: failed to start containers: a, b"
        );
    }

    #[test]
    fn run_exit_codes() {
        assert_eq!(
            run_failure("docker", "x: permission denied: unknown", RunStage::Start).1,
            126
        );
        assert_eq!(
            run_failure(
                "docker",
                "open /x: no such file or directory",
                RunStage::Start
            )
            .1,
            127
        );
        let (text, code) = run_failure("layerbox", "No such image: x.", RunStage::Create);
        assert_eq!(
            text,
            "layerbox: Error response from daemon: No such image: x.\nSee 'layerbox run --help'."
        );
        assert_eq!(code, 125);
    }
}
