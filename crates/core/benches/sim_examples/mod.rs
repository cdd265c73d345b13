//! The article's two examples and how the simulator builds them, shared by the native
//! benchmark (`benches/sim.rs`) and the browser one (`tests/wasm_sim.rs`).

use std::sync::Arc;

use layerbox_core::build::{BuildCache, BuildContext, BuildOptions, Built, build};
use layerbox_core::sim::base::ModelledImages;
use layerbox_core::sim::catalog::Catalog;
use layerbox_core::sim::shell::SimRun;

const NODE_DOCKERFILE: &str = "FROM node:14\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\nEXPOSE 3000\nCMD [\"node\", \"app.js\"]\n";
const NODE_FILES: [(&str, &str); 2] = [
    (
        "package.json",
        "{\"name\": \"app\", \"version\": \"1.0.0\", \"dependencies\": {\"express\": \"^4.17.1\"}}\n",
    ),
    (
        "app.js",
        "const express = require('express');\nexpress().listen(3000);\n",
    ),
];

/// One example: its Dockerfile and build context.
pub struct Example {
    pub name: &'static str,
    pub dockerfile: &'static str,
    pub context: BuildContext,
}

/// The Python example (`FROM python:3.9-slim` … `pip install -r requirements.txt`) and the Node
/// one (`FROM node:14` … `npm install`).
pub fn examples() -> Vec<Example> {
    let python = layerbox_core::examples::python();
    let files: Vec<(&str, &str)> = python.files.iter().map(|f| (f.path, f.contents)).collect();
    vec![
        Example {
            name: "python",
            dockerfile: python.dockerfile(),
            context: BuildContext::from_files(&files).expect("a context"),
        },
        Example {
            name: "node",
            dockerfile: NODE_DOCKERFILE,
            context: BuildContext::from_files(&NODE_FILES).expect("a context"),
        },
    ]
}

/// Builds `example` as the engine does: the simulated shell with the package managers, base
/// images from `images`, the build cache `cache`.
pub fn build_example(
    example: &Example,
    images: &ModelledImages,
    catalog: &Arc<Catalog>,
    cache: &mut BuildCache,
) -> Built {
    let mut sim = SimRun::default();
    layerbox_core::sim::pkg::register(&mut sim.registry, catalog);
    build(
        example.dockerfile,
        &example.context,
        &BuildOptions::default(),
        images,
        &mut sim,
        cache,
        &mut |_| {},
    )
    .unwrap_or_else(|e| panic!("{}: {e}", example.name))
}
