//! The core engine's process runner for builds on the Linux engine: each `RUN` step runs in a
//! real container ([`LinuxRun`]) and its output is kept for BuildKit's plain progress.

use std::path::PathBuf;
use std::sync::Arc;

use layerbox_core::build::{RunBackend, RunRequest};
use layerbox_core::engine::{ProcessRequest, ProcessResult, ProcessRunner, Stream};
use layerbox_core::fs::{Layer, UnionFs};

use crate::linux::{LinuxRun, Output, StartError};

/// Runs the builder's `RUN` steps in real containers, output into a scratch file.
pub struct BuildRunner {
    run: LinuxRun,
    log: PathBuf,
}

impl BuildRunner {
    /// A runner over `run`, capturing output in `log`.
    pub fn new(run: LinuxRun, log: PathBuf) -> Self {
        Self { run, log }
    }

    /// Tells the runner where a layer it will meet is unpacked already.
    pub fn know(&mut self, layer: Arc<Layer>, dir: PathBuf) {
        self.run.know(layer, dir);
    }
}

impl ProcessRunner for BuildRunner {
    fn run(&mut self, fs: &mut UnionFs, request: &ProcessRequest) -> ProcessResult {
        let _ = std::fs::remove_file(&self.log);
        self.run.output = Output::File(self.log.clone());
        let run = RunRequest {
            argv: request.argv.clone(),
            env: request.env.clone(),
            workdir: request.workdir.clone(),
            user: request.user.clone(),
        };
        let started = std::time::Instant::now();
        let result = RunBackend::run(&mut self.run, fs, &run);
        // the real time it took, in whole seconds as the engine counts them
        let seconds = i64::try_from(started.elapsed().as_secs()).unwrap_or(i64::MAX);
        let text = std::fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        match result {
            Ok(status) => ProcessResult {
                status,
                output: vec![(Stream::Stdout, text)],
                seconds,
            },
            Err(message) => ProcessResult {
                status: i32::from(StartError::from_message(message.clone()).code),
                output: vec![(Stream::Stderr, format!("{message}\n"))],
                seconds,
            },
        }
    }

    fn provides(&self, _program: &str) -> bool {
        false
    }
}
