//! Example projects a learner starts from: a Dockerfile and its build context.
//!
//! The Python example is the one from the article layerbox is based on ("Get started with
//! Docker": a Flask app that greets `$NAME`).

/// A file of an example's build context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextFile {
    /// Path relative to the build context, with `/` separators.
    pub path: &'static str,
    /// File contents.
    pub contents: &'static str,
}

/// An example project: a name and the files of its build context, `Dockerfile` among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// Short name shown in the playground's example picker.
    pub name: &'static str,
    /// The build context, `Dockerfile` first.
    pub files: &'static [ContextFile],
}

impl Example {
    /// The text of the example's `Dockerfile`.
    pub fn dockerfile(&self) -> &'static str {
        self.file("Dockerfile").unwrap_or_default()
    }

    /// The contents of the context file at `path`, if the example has one.
    pub fn file(&self, path: &str) -> Option<&'static str> {
        self.files
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.contents)
    }
}

static PYTHON_FILES: [ContextFile; 3] = [
    ContextFile {
        path: "Dockerfile",
        contents: include_str!("examples/python/Dockerfile"),
    },
    ContextFile {
        path: "app.py",
        contents: include_str!("examples/python/app.py"),
    },
    ContextFile {
        path: "requirements.txt",
        contents: include_str!("examples/python/requirements.txt"),
    },
];

/// The article's Python example: Flask app, `requirements.txt`, and its Dockerfile.
pub fn python() -> Example {
    Example {
        name: "python",
        files: &PYTHON_FILES,
    }
}

/// Every example, in the order the playground offers them.
pub fn all() -> Vec<Example> {
    vec![python()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_example_is_the_articles_dockerfile() {
        let ex = python();
        assert_eq!(ex.files[0].path, "Dockerfile");
        let lines: Vec<&str> = ex.dockerfile().lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(lines[0], "FROM python:3.9-slim");
        assert_eq!(lines[6], r#"CMD ["python", "app.py"]"#);
        assert!(ex.file("requirements.txt").unwrap().contains("Flask"));
        assert!(ex.file("nope").is_none());
    }
}
