//! Example projects a learner starts from: a Dockerfile and its build context.
//!
//! The Python and Node examples are the ones from the article layerbox is based on ("Get started
//! with Docker": a Flask app that greets `$NAME`, a Node `http` server answering `Hello World`); the
//! others each teach one lesson about layers and the build cache.

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

/// One context file read from `examples/<dir>/<name>` at compile time.
macro_rules! context_file {
    ($dir:literal, $name:literal) => {
        ContextFile {
            path: $name,
            contents: include_str!(concat!("examples/", $dir, "/", $name)),
        }
    };
}

static PYTHON_FILES: [ContextFile; 3] = [
    context_file!("python", "Dockerfile"),
    context_file!("python", "app.py"),
    context_file!("python", "requirements.txt"),
];

static NODE_FILES: [ContextFile; 3] = [
    context_file!("node", "Dockerfile"),
    context_file!("node", "app.js"),
    context_file!("node", "package.json"),
];

static MULTISTAGE_FILES: [ContextFile; 3] = [
    context_file!("multistage", "Dockerfile"),
    context_file!("node", "app.js"),
    context_file!("multistage", "package.json"),
];

static APT_CLEANUP_FILES: [ContextFile; 1] = [context_file!("apt-cleanup", "Dockerfile")];

static CACHE_ORDER_FILES: [ContextFile; 3] = [
    context_file!("cache-order", "Dockerfile"),
    context_file!("python", "app.py"),
    context_file!("python", "requirements.txt"),
];

/// The article's Python example: Flask app, `requirements.txt`, and its Dockerfile.
pub fn python() -> Example {
    Example {
        name: "python",
        files: &PYTHON_FILES,
    }
}

/// The article's Node example: an `http.createServer` app answering `Hello World` on port
/// 3000, its `package.json`, and a Dockerfile that installs dependencies before copying the app.
pub fn node() -> Example {
    Example {
        name: "node",
        files: &NODE_FILES,
    }
}

/// A multi-stage build: the final image keeps only what the first stage built.
pub fn multistage() -> Example {
    Example {
        name: "multi-stage",
        files: &MULTISTAGE_FILES,
    }
}

/// apt in one `RUN` that deletes its package lists, so they never reach a layer.
pub fn apt_cleanup() -> Example {
    Example {
        name: "apt-cleanup",
        files: &APT_CLEANUP_FILES,
    }
}

/// Dependencies copied and installed before the code, so edits keep the install cached.
pub fn cache_order() -> Example {
    Example {
        name: "cache-order",
        files: &CACHE_ORDER_FILES,
    }
}

/// Every example, in the order the playground offers them.
pub fn all() -> Vec<Example> {
    vec![python(), node(), multistage(), apt_cleanup(), cache_order()]
}

/// The example called `name`, if there is one.
pub fn by_name(name: &str) -> Option<Example> {
    all().into_iter().find(|e| e.name == name)
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

    #[test]
    fn node_example_is_the_articles() {
        let ex = node();
        let lines: Vec<&str> = ex.dockerfile().lines().collect();
        assert_eq!(
            lines,
            [
                "FROM node:14",
                "WORKDIR /usr/src/app",
                "COPY package*.json ./",
                "RUN npm install",
                "COPY . .",
                "EXPOSE 3000",
                r#"CMD ["node", "app.js"]"#,
            ]
        );
        let app = ex.file("app.js").unwrap();
        assert!(app.contains("http.createServer"));
        assert!(app.contains(r"res.end('Hello World\n');"));
        assert!(app.contains("const port = 3000;"));
        assert!(
            ex.file("package.json")
                .unwrap()
                .contains(r#""main": "app.js""#)
        );
    }

    #[test]
    fn every_example_has_a_dockerfile_first_and_a_unique_name() {
        let all = all();
        for ex in &all {
            assert_eq!(ex.files[0].path, "Dockerfile", "{}", ex.name);
            assert!(ex.dockerfile().starts_with("FROM") || ex.dockerfile().starts_with('#'));
            assert_eq!(by_name(ex.name), Some(*ex));
        }
        let mut names: Vec<_> = all.iter().map(|e| e.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 5);
        assert!(by_name("nope").is_none());
    }
}
