//! The playground's one state, changed only through [`Action`]s.

use std::rc::Rc;

use layerbox_core::dockerfile::editor::{self, Analysis};
use layerbox_core::examples::{self, Example};
use yew::Reducible;

/// A file of the learner's build context, as edited in the playground.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    /// Path relative to the build context.
    pub path: String,
    /// Current contents.
    pub contents: String,
}

/// Everything the playground shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The build context, `Dockerfile` first.
    pub files: Vec<ProjectFile>,
    /// Index into `files` of the file open in the editor.
    pub open: usize,
    /// Highlighting and diagnostics of the Dockerfile, from the core's parser and linter;
    /// recomputed whenever the Dockerfile changes.
    pub analysis: Rc<Analysis>,
}

/// What the learner can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Replace the contents of the open file.
    Edit(String),
    /// Open the file at this index of `files`.
    Open(usize),
}

impl State {
    /// A state holding an example project, with its Dockerfile open.
    pub fn from_example(example: &Example) -> Self {
        let files: Vec<ProjectFile> = example
            .files
            .iter()
            .map(|f| ProjectFile {
                path: f.path.to_owned(),
                contents: f.contents.to_owned(),
            })
            .collect();
        let analysis = Rc::new(editor::analyze(example.dockerfile()));
        State {
            files,
            open: 0,
            analysis,
        }
    }

    /// The file open in the editor.
    pub fn open_file(&self) -> &ProjectFile {
        &self.files[self.open]
    }

    /// Whether the open file is the Dockerfile (the one that is analysed).
    pub fn dockerfile_open(&self) -> bool {
        self.open_file().path == "Dockerfile"
    }
}

impl Default for State {
    fn default() -> Self {
        State::from_example(&examples::python())
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        match action {
            Action::Edit(text) => {
                if self.open_file().contents == text {
                    return self;
                }
                let mut next = (*self).clone();
                if next.dockerfile_open() {
                    next.analysis = Rc::new(editor::analyze(&text));
                }
                next.files[next.open].contents = text;
                Rc::new(next)
            }
            Action::Open(index) if index < self.files.len() && index != self.open => {
                Rc::new(State {
                    open: index,
                    ..(*self).clone()
                })
            }
            Action::Open(_) => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_with_the_python_example_open() {
        let s = State::default();
        assert_eq!(s.open_file().path, "Dockerfile");
        assert!(s.open_file().contents.starts_with("FROM python:3.9-slim\n"));
        assert!(s.files.iter().any(|f| f.path == "requirements.txt"));
    }

    #[test]
    fn edit_changes_only_the_open_file() {
        let s = Rc::new(State::default());
        let s = s.reduce(Action::Open(1));
        let before = Rc::clone(&s.analysis);
        let s = s.reduce(Action::Edit("print('hi')\n".into()));
        assert_eq!(s.files[1].contents, "print('hi')\n");
        assert!(s.files[0].contents.starts_with("FROM python"));
        assert!(
            Rc::ptr_eq(&before, &s.analysis),
            "editing app.py re-analysed the Dockerfile"
        );
    }

    #[test]
    fn editing_the_dockerfile_updates_its_diagnostics() {
        let s = Rc::new(State::default());
        assert!(!s.analysis.diagnostics.iter().any(|d| d.code == "parse"));
        let s = s.reduce(Action::Edit("FROM alpine\nCOPY onlyone\n".into()));
        assert!(
            s.analysis
                .diagnostics
                .iter()
                .any(|d| d.message.contains("COPY requires at least two arguments")),
            "{:?}",
            s.analysis.diagnostics
        );
    }

    #[test]
    fn opening_a_missing_file_is_ignored() {
        let s = Rc::new(State::default());
        let same = Rc::clone(&s).reduce(Action::Open(99));
        assert!(Rc::ptr_eq(&s, &same));
    }
}
