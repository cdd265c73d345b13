//! `npm install` and `npm ci`: `package.json` dependencies from the catalog into
//! `node_modules` (flat, as npm hoists), `package-lock.json`, and npm's cache in `~/.npm`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::{Manager, PkgCtx, SIMULATED_NOTE, fs_failure};
use crate::fs::FsError;
use crate::image::Digest;
use crate::sim::catalog::{Catalog, Package, simulated};

/// The simulated `npm`.
#[derive(Debug, Clone)]
pub struct Npm {
    catalog: Arc<Catalog>,
}

impl Npm {
    /// `npm` over the catalog's npm section.
    pub fn new(catalog: Arc<Catalog>) -> Self {
        Self { catalog }
    }
}

impl Manager for Npm {
    fn run(&self, cx: &mut PkgCtx<'_>, args: &[String]) -> i32 {
        let mut command = None;
        let mut names = Vec::new();
        let mut omit_dev = cx.env.get("NODE_ENV").is_some_and(|v| v == "production");
        for a in args.iter().skip(1) {
            match a.as_str() {
                "--production" | "--only=production" | "--omit=dev" => omit_dev = true,
                s if s.starts_with('-') => {}
                s if command.is_none() => command = Some(s.to_owned()),
                s => names.push(s.to_owned()),
            }
        }
        let ci = match command.as_deref() {
            Some("install" | "i" | "add") => false,
            Some("ci" | "clean-install") => true,
            Some("--version" | "-v") | None => {
                cx.out("10.8.2\n");
                return 0;
            }
            Some(other) => {
                cx.err(format!("Unknown command: \"{other}\"\n\nTo see a list of supported npm commands, run:\n  npm help\n"));
                return 1;
            }
        };
        cx.out(format!(
            "{SIMULATED_NOTE} (npm packages from the catalog)\n"
        ));
        match self.install(cx, ci, &names, omit_dev) {
            Ok(status) => status,
            Err(e) => fs_failure(cx, "npm ERR!", &e, 1),
        }
    }
}

impl Npm {
    fn install(
        &self,
        cx: &mut PkgCtx<'_>,
        ci: bool,
        names: &[String],
        omit_dev: bool,
    ) -> Result<i32, FsError> {
        let manifest_path = cx.abs("package.json");
        let lock_path = cx.abs("package-lock.json");
        let mut manifest: Value = match cx.read_text(&manifest_path) {
            Some(text) => {
                match serde_json::from_str(&text) {
                    Ok(v) => v,
                    Err(e) => {
                        cx.err(format!("npm ERR! code EJSONPARSE\nnpm ERR! JSON.parse Invalid package.json: {e}\n"));
                        return Ok(1);
                    }
                }
            }
            None if names.is_empty() || ci => {
                cx.err(format!(
                    "npm ERR! code ENOENT\nnpm ERR! syscall open\nnpm ERR! path {manifest_path}\nnpm ERR! errno -2\nnpm ERR! enoent ENOENT: no such file or directory, open '{manifest_path}'\nnpm ERR! enoent This is related to npm not being able to find a file.\nnpm ERR! enoent \n"
                ));
                return Ok(254);
            }
            None => json!({}),
        };
        if ci && !cx.fs.exists(&lock_path) {
            cx.err("npm ERR! code EUSAGE\nnpm ERR! \nnpm ERR! The `npm ci` command can only install with an existing package-lock.json or\nnpm ERR! npm-shrinkwrap.json with lockfileVersion >= 1. Run an install with npm@5 or\nnpm ERR! later to generate a package-lock.json file, then try again.\n");
            return Ok(1);
        }
        // What to install: named packages (added to dependencies) or the manifest's.
        let mut roots: Vec<String> = Vec::new();
        for spec in names {
            let name = spec
                .rsplit_once('@')
                .filter(|(n, _)| !n.is_empty())
                .map_or(spec.as_str(), |(n, _)| n);
            roots.push(name.to_owned());
        }
        if names.is_empty() {
            let mut sections = vec!["dependencies"];
            if !omit_dev {
                sections.push("devDependencies");
            }
            for s in sections {
                if let Some(deps) = manifest[s].as_object() {
                    roots.extend(deps.keys().cloned());
                }
            }
        }
        let mut chosen: BTreeMap<String, &Package> = BTreeMap::new();
        let mut queue = roots.clone();
        while let Some(name) = queue.pop() {
            if chosen.contains_key(&name) {
                continue;
            }
            let Some(p) = self.catalog.npm().get(&name) else {
                cx.err(format!(
                    "npm ERR! code E404\nnpm ERR! 404 Not Found - GET https://registry.npmjs.org/{name} - Not found\nnpm ERR! 404 \nnpm ERR! 404  '{name}@*' is not in this registry.\nnpm ERR! 404 \nnpm ERR! 404 Note that you can also install from a\nnpm ERR! 404 tarball, folder, http url, or git url.\n"
                ));
                return Ok(1);
            };
            queue.extend(p.deps().iter().filter_map(|g| g.first().cloned()));
            chosen.insert(name, p);
        }
        let dir = cx.cwd.clone();
        let modules = cx.abs("node_modules");
        if ci && cx.fs.exists(&modules) {
            cx.fs.remove_all(&modules)?;
        }
        let home = cx
            .env
            .get("HOME")
            .cloned()
            .unwrap_or_else(|| "/root".to_owned());
        let mut added = 0;
        let mut lock_packages = Map::new();
        for (name, p) in &chosen {
            let target = format!("{modules}/{name}");
            let fresh = !cx.fs.exists(&format!("{target}/package.json"));
            if fresh {
                added += 1;
                p.install(cx.fs, &target, &|_| false)?;
                for (bin, path) in p.entry_points() {
                    let link = format!("{modules}/.bin/{bin}");
                    super::mkdir_parent(cx.fs, &link)?;
                    if cx.fs.lstat(&link).is_err() {
                        cx.fs.symlink(
                            &format!("../{name}/{}", path.trim_start_matches("./")),
                            &link,
                        )?;
                    }
                }
                // npm's content-addressed cache keeps every tarball it fetched.
                let hex = Digest::sha256_of(format!("{name}@{}", p.version()).as_bytes()).hex();
                let cache = format!(
                    "{home}/.npm/_cacache/content-v2/sha512/{}/{}/{}",
                    &hex[0..2],
                    &hex[2..4],
                    &hex[4..]
                );
                super::mkdir_parent(cx.fs, &cache)?;
                cx.fs.write_data(
                    &cache,
                    simulated("npm-cache", p.version(), name, p.download_size()),
                    0o644,
                )?;
            }
            let deps: Map<String, Value> = p
                .deps()
                .iter()
                .filter_map(|g| g.first())
                .map(|d| (d.clone(), json!("*")))
                .collect();
            let mut entry = json!({
                "version": p.version(),
                "resolved": format!("https://registry.npmjs.org/{name}/-/{}-{}.tgz", name.rsplit('/').next().unwrap_or(name), p.version()),
            });
            if !deps.is_empty() {
                entry["dependencies"] = Value::Object(deps);
            }
            lock_packages.insert(format!("node_modules/{name}"), entry);
        }
        if !names.is_empty() {
            if !manifest["dependencies"].is_object() {
                manifest["dependencies"] = json!({});
            }
            for name in &roots {
                let v = chosen
                    .get(name)
                    .map_or("*".to_owned(), |p| format!("^{}", p.version()));
                manifest["dependencies"][name] = json!(v);
            }
            let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
            cx.write_text(&manifest_path, &text, 0o644)?;
        }
        let mut root_entry = Map::new();
        for key in ["name", "version", "dependencies", "devDependencies"] {
            if !manifest[key].is_null() {
                root_entry.insert(key.to_owned(), manifest[key].clone());
            }
        }
        let mut packages = Map::new();
        packages.insert(String::new(), Value::Object(root_entry));
        packages.extend(lock_packages.clone());
        let lock = json!({
            "name": manifest["name"].as_str().unwrap_or_else(|| dir.rsplit('/').next().unwrap_or("app")),
            "version": manifest["version"].as_str().unwrap_or("1.0.0"),
            "lockfileVersion": 3,
            "requires": true,
            "packages": packages,
        });
        let text = serde_json::to_string_pretty(&lock).unwrap_or_default() + "\n";
        if !ci {
            cx.write_text(&lock_path, &text, 0o644)?;
        }
        let hidden = json!({ "name": lock["name"], "version": lock["version"], "lockfileVersion": 3, "requires": true, "packages": lock_packages });
        if !chosen.is_empty() {
            cx.write_text(
                &format!("{modules}/.package-lock.json"),
                &(serde_json::to_string_pretty(&hidden).unwrap_or_default() + "\n"),
                0o644,
            )?;
        }
        if added == 0 {
            cx.out(format!(
                "\nup to date, audited {} packages in 0s\n",
                chosen.len() + 1
            ));
        } else {
            cx.out(format!(
                "\nadded {added} package{}, and audited {} packages in 0s\n",
                if added == 1 { "" } else { "s" },
                chosen.len() + 1
            ));
        }
        cx.out("\nfound 0 vulnerabilities\n");
        Ok(0)
    }
}
