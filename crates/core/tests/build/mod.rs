//! The builder: config and history after each instruction (spec §13.4, BuildKit's texts),
//! multi-stage builds, COPY semantics, and cache hits and misses with their reasons (§15.1).

use std::collections::BTreeMap;
use std::sync::Arc;

use layerbox_core::build::{
    BaseImage, BuildCache, BuildContext, BuildEvent, BuildOptions, Built, CacheOutcome, NoRun,
    RunBackend, RunRequest, build,
};
use layerbox_core::fs::{Entry, Layer, LayerStack, Meta, UnionFs};
use layerbox_core::image::{History, ImageConfig, Reference, RootFs};

/// A tiny base image `base:1` with /etc/passwd (user `app` = 1000:1000) and a Cmd.
fn images() -> BTreeMap<Reference, BaseImage> {
    let mut fs = UnionFs::new(LayerStack::new());
    fs.mkdir_all("/etc", 0o755).unwrap();
    fs.write(
        "/etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        0o644,
    )
    .unwrap();
    fs.write("/etc/group", b"root:x:0:\nstaff:x:50:\n", 0o644)
        .unwrap();
    let layer = Arc::new(fs.into_upper());
    let (diff_id, _) =
        layerbox_core::fs::tar::diff_id(&layer, &layerbox_core::fs::tar::TarOptions::default());
    let mut config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs {
            diff_ids: vec![diff_id],
            ..RootFs::default()
        },
        history: vec![History {
            created_by: Some("base rootfs".into()),
            ..History::default()
        }],
        ..ImageConfig::default()
    };
    config.config.env = Some(vec!["PATH=/usr/bin:/bin".into(), "LANG=C".into()]);
    config.config.cmd = Some(vec!["sh".into()]);
    [(
        "base:1".parse().unwrap(),
        BaseImage::new(config, [layer]).unwrap(),
    )]
    .into()
}

fn context() -> BuildContext {
    BuildContext::from_files(&[
        ("app.py", "print('hi')\n"),
        ("requirements.txt", "flask\n"),
        ("src/a.rs", "fn a() {}\n"),
        ("src/b.rs", "fn b() {}\n"),
        ("notes.md", "draft\n"),
    ])
    .unwrap()
}

fn run(
    dockerfile: &str,
    context: &BuildContext,
    options: &BuildOptions,
    cache: &mut BuildCache,
) -> (Built, Vec<BuildEvent>) {
    let mut events = Vec::new();
    let built = build(
        dockerfile,
        context,
        options,
        &images(),
        &mut NoRun,
        cache,
        &mut |e| events.push(e),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (built, events)
}

/// The merged, read-only view of a built image's layers.
fn merged(built: &Built) -> UnionFs {
    UnionFs::read_only(LayerStack::from_layers(built.layers.clone()).unwrap())
}

/// The message of a build that must fail (no RUN backend, empty cache).
fn build_err(dockerfile: &str, context: &BuildContext, options: &BuildOptions) -> String {
    build(
        dockerfile,
        context,
        options,
        &images(),
        &mut NoRun,
        &mut BuildCache::new(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string()
}

fn history(built: &Built) -> Vec<(String, bool)> {
    built
        .config
        .history
        .iter()
        .map(|h| (h.created_by.clone().unwrap_or_default(), h.empty_layer))
        .collect()
}

fn outcomes(events: &[BuildEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::Cache {
                outcome: CacheOutcome::Hit { .. },
                ..
            } => Some("hit".to_owned()),
            BuildEvent::Cache {
                outcome: CacheOutcome::Miss { reason },
                ..
            } => Some(format!("miss: {reason}")),
            _ => None,
        })
        .collect()
}

#[test]
fn config_and_history_follow_buildkit() {
    let dockerfile = r#"FROM base:1
ARG VERSION=1.0
ENV APP_HOME=/srv/app LANG=C.UTF-8
LABEL org.version=$VERSION maintainer=me
WORKDIR $APP_HOME
USER app
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1
ENTRYPOINT ["python"]
CMD app.py
ONBUILD COPY . /srv
"#;
    let (built, _) = run(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    let h = history(&built);
    let want: Vec<(&str, bool)> = vec![
        ("base rootfs", false),
        ("ARG VERSION=1.0", true),
        ("ENV APP_HOME=/srv/app LANG=C.UTF-8", true),
        ("LABEL org.version=1.0 maintainer=me", true),
        ("WORKDIR /srv/app", false),
        ("USER app", true),
        ("EXPOSE [53/udp 8080/tcp]", true), // the parser sorts the words, as BuildKit does
        ("VOLUME [/data]", true),
        ("STOPSIGNAL SIGTERM", true),
        (
            "HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/ || exit 1] Interval:5m0s Timeout:3s StartPeriod:0s StartInterval:0s Retries:0}",
            true,
        ),
        ("ENTRYPOINT [\"python\"]", true),
        ("CMD [\"/bin/sh\" \"-c\" \"app.py\"]", true),
    ];
    let got: Vec<(&str, bool)> = h.iter().map(|(s, e)| (s.as_str(), *e)).collect();
    assert_eq!(got, want);
    let c = &built.config.config;
    assert_eq!(
        c.env.as_deref().unwrap(),
        ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "APP_HOME=/srv/app"]
    );
    assert_eq!(c.working_dir.as_deref(), Some("/srv/app"));
    assert_eq!(c.user.as_deref(), Some("app"));
    assert_eq!(c.entrypoint.as_deref().unwrap(), ["python"]);
    assert_eq!(c.cmd.as_deref().unwrap(), ["/bin/sh", "-c", "app.py"]);
    assert_eq!(c.on_build.as_deref().unwrap(), ["COPY . /srv"]);
    assert_eq!(
        c.healthcheck.as_ref().unwrap().interval,
        Some(300_000_000_000)
    );
    assert!(c.exposed_ports.as_ref().unwrap().contains_key("53/udp"));
    assert_eq!(c.labels.as_ref().unwrap()["org.version"], "1.0");
    assert_eq!(
        built.config.rootfs.diff_ids.len(),
        2,
        "the base layer and WORKDIR's"
    );
    // WORKDIR made the directory owned by USER? No: USER came after it, so root owns it.
    let fs = merged(&built);
    assert_eq!(fs.stat("/srv/app").unwrap().uid, 0);
    assert_eq!(built.id, built.config.id());
}

#[test]
fn entrypoint_resets_an_inherited_cmd_but_not_one_of_the_stage() {
    let (built, _) = run(
        "FROM base:1\nENTRYPOINT [\"/bin/run\"]\n",
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    assert_eq!(built.config.config.cmd, None);
    let (built, _) = run(
        "FROM base:1\nCMD [\"x\"]\nENTRYPOINT [\"/bin/run\"]\n",
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    assert_eq!(built.config.config.cmd.as_deref().unwrap(), ["x"]);
}

#[test]
fn copy_places_files_dirs_and_wildcards_with_owner_and_mode() {
    let dockerfile = "FROM base:1\nWORKDIR /app\nCOPY --chown=app:staff --chmod=600 app.py ./\nCOPY src /app/code\nCOPY *.txt /cfg/\nCOPY notes.md /docs/readme\n";
    let (built, _) = run(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    let fs = merged(&built);
    let st = fs.stat("/app/app.py").unwrap();
    assert_eq!((st.uid, st.gid, st.mode), (1000, 50, 0o600));
    assert_eq!(
        fs.read("/app/code/a.rs").unwrap().bytes().unwrap(),
        b"fn a() {}\n"
    );
    assert!(fs.exists("/cfg/requirements.txt"));
    assert_eq!(
        fs.read("/docs/readme").unwrap().bytes().unwrap(),
        b"draft\n"
    );
    let h = history(&built);
    assert_eq!(
        h[2].0,
        "COPY --chown=app:staff --chmod=600 app.py ./ # buildkit"
    );
    assert_eq!(h[4].0, "COPY *.txt /cfg/ # buildkit");
}

#[test]
fn copy_errors_use_buildkit_words() {
    let err = build_err(
        "FROM base:1\nCOPY missing.txt /x\n",
        &context(),
        &BuildOptions::default(),
    );
    assert_eq!(
        err,
        "failed to compute cache key: failed to calculate checksum of ref: \"/missing.txt\": not found"
    );
    let err = build_err(
        "FROM base:1\nCOPY --chmod=99 app.py /x\n",
        &context(),
        &BuildOptions::default(),
    );
    assert_eq!(
        err,
        "invalid chmod parameter: '99'. it should be octal string and between 0 and 07777"
    );
    let err = build_err(
        "FROM base:1\nRUN make\n",
        &context(),
        &BuildOptions::default(),
    );
    assert!(err.contains("RUN is not supported"), "{err}");
    let err = build_err("FROM nope\n", &context(), &BuildOptions::default());
    assert!(
        err.starts_with("failed to resolve source metadata for docker.io/library/nope:latest"),
        "{err}"
    );
    let opts = BuildOptions {
        target: Some("bulid".into()),
        ..BuildOptions::default()
    };
    let err = build_err("FROM base:1 AS build\nFROM scratch\n", &context(), &opts);
    assert_eq!(
        err,
        "target stage \"bulid\" could not be found (did you mean build?)"
    );
}

#[test]
fn multi_stage_copy_from_and_target() {
    let dockerfile = "FROM base:1 AS build\nCOPY src /src\nFROM scratch AS unused\nCOPY notes.md /\nFROM scratch\nCOPY --from=build /src/a.rs /out/\nCOPY --from=0 /etc/passwd /etc/\n";
    let mut events = Vec::new();
    let built = build(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &images(),
        &mut NoRun,
        &mut BuildCache::new(),
        &mut |e| events.push(e),
    )
    .unwrap();
    let fs = merged(&built);
    assert!(fs.exists("/out/a.rs"));
    assert_eq!(fs.stat("/etc/passwd").unwrap().mode, 0o644);
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::StepStarted { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "COPY src /src",
            "COPY /src/a.rs /out/",
            "COPY /etc/passwd /etc/"
        ],
        "the unused stage is skipped"
    );
    assert_eq!(built.config.config.working_dir.as_deref(), Some("/"));
    let opts = BuildOptions {
        target: Some("build".into()),
        ..BuildOptions::default()
    };
    let (built, _) = run(dockerfile, &context(), &opts, &mut BuildCache::new());
    assert_eq!(built.config.config.cmd.as_deref().unwrap(), ["sh"]);
    let opts = BuildOptions {
        target: Some("a".into()),
        ..BuildOptions::default()
    };
    let err = build_err(
        "FROM scratch AS a\nCOPY --from=later /x /x\nFROM scratch AS later\n",
        &context(),
        &opts,
    );
    assert_eq!(
        err,
        "cannot copy from stage \"later\", it needs to be defined before current stage \"a\""
    );
}

#[test]
fn args_scope_and_build_args() {
    let dockerfile = "ARG TAG=1\nFROM base:$TAG\nARG TAG\nARG MODE=dev\nARG UNSET\nENV MODE_COPY=$MODE\nLABEL tag=$TAG\n";
    let opts = BuildOptions {
        build_args: [("MODE".to_owned(), "prod".to_owned())].into(),
        ..BuildOptions::default()
    };
    let (built, _) = run(dockerfile, &context(), &opts, &mut BuildCache::new());
    let h = history(&built);
    assert_eq!(h[1].0, "ARG TAG=1");
    assert_eq!(h[2].0, "ARG MODE=prod");
    assert_eq!(h[3].0, "ARG UNSET");
    assert_eq!(h[4].0, "ENV MODE_COPY=prod");
    assert!(
        !built
            .config
            .config
            .env
            .as_ref()
            .unwrap()
            .iter()
            .any(|e| e.starts_with("MODE=")),
        "ARG never reaches Env"
    );
}

/// A backend whose RUN writes a file named after the command, for cache tests.
struct Touch;

impl RunBackend for Touch {
    fn run(&mut self, fs: &mut UnionFs, request: &RunRequest) -> Result<i32, String> {
        let cmd = request.argv.last().cloned().unwrap_or_default();
        if cmd == "false" {
            return Ok(1);
        }
        fs.write(
            &format!("/ran-{}", cmd.replace([' ', '/'], "_")),
            cmd.as_bytes(),
            0o644,
        )
        .map_err(|e| e.to_string())?;
        Ok(0)
    }
}

#[test]
fn cache_hits_and_misses_say_why() {
    let dockerfile =
        "FROM base:1\nCOPY requirements.txt /app/\nRUN install deps\nCOPY . /app\nRUN build\n";
    let mut cache = BuildCache::new();
    let opts = BuildOptions::default();
    let build_with = |ctx: &BuildContext, cache: &mut BuildCache, df: &str| {
        let mut events = Vec::new();
        let built = build(df, ctx, &opts, &images(), &mut Touch, cache, &mut |e| {
            events.push(e);
        })
        .unwrap();
        (built, events)
    };
    let (first, events) = build_with(&context(), &mut cache, dockerfile);
    assert_eq!(
        outcomes(&events),
        [
            "miss: not built before",
            "miss: parent step rebuilt",
            "miss: parent step rebuilt",
            "miss: parent step rebuilt"
        ]
    );
    let (second, events) = build_with(&context(), &mut cache, dockerfile);
    assert_eq!(outcomes(&events), ["hit", "hit", "hit", "hit"]);
    assert_eq!(
        first.id, second.id,
        "a fully cached build gives the same image"
    );

    let edited = BuildContext::from_files(&[
        ("app.py", "print('hello')\n"),
        ("requirements.txt", "flask\n"),
        ("src/a.rs", "fn a() {}\n"),
        ("src/b.rs", "fn b() {}\n"),
        ("notes.md", "draft\n"),
    ])
    .unwrap();
    let (_, events) = build_with(&edited, &mut cache, dockerfile);
    assert_eq!(
        outcomes(&events),
        [
            "hit",
            "hit",
            "miss: app.py changed",
            "miss: parent step rebuilt"
        ]
    );
    let (_, events) = build_with(
        &edited,
        &mut cache,
        "FROM base:1\nCOPY requirements.txt /app/\nRUN install deps --quiet\n",
    );
    assert_eq!(outcomes(&events), ["hit", "miss: instruction changed"]);
    let mut events = Vec::new();
    let opts = BuildOptions {
        no_cache: true,
        ..BuildOptions::default()
    };
    build(
        dockerfile,
        &edited,
        &opts,
        &images(),
        &mut Touch,
        &mut cache,
        &mut |e| events.push(e),
    )
    .unwrap();
    assert!(outcomes(&events).iter().all(|o| o == "miss: --no-cache"));
    let err = build(
        "FROM base:1\nRUN false\n",
        &edited,
        &BuildOptions::default(),
        &images(),
        &mut Touch,
        &mut cache,
        &mut |_| {},
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "process \"/bin/sh -c false\" did not complete successfully: exit code: 1"
    );
}

#[test]
fn run_history_lists_declared_args() {
    let mut cache = BuildCache::new();
    let mut events = Vec::new();
    let built = build(
        "FROM base:1\nARG foo=bar2\nARG bar=123\nRUN ls /etc/\n",
        &context(),
        &BuildOptions::default(),
        &images(),
        &mut Touch,
        &mut cache,
        &mut |e| events.push(e),
    )
    .unwrap();
    assert_eq!(
        history(&built)[3].0,
        "RUN |2 foo=bar2 bar=123 /bin/sh -c ls /etc/ # buildkit"
    );
    let committed: Vec<Vec<String>> = events
        .iter()
        .filter_map(|e| match e {
            BuildEvent::LayerCommitted { changes, .. } => {
                Some(changes.iter().map(ToString::to_string).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(committed, [["A /ran-ls__etc_"]]);
}

#[test]
fn dockerignore_hides_context_files() {
    let mut files = Layer::new();
    files.insert("app.py", Entry::file(Meta::new(0o644, 0), "x"));
    files.insert("secret.env", Entry::file(Meta::new(0o600, 0), "k"));
    files.insert("docs", Entry::dir(Meta::new(0o755, 0)));
    files.insert("docs/keep.md", Entry::file(Meta::new(0o644, 0), "kept"));
    files.insert("docs/drop.md", Entry::file(Meta::new(0o644, 0), "dropped"));
    let ctx = BuildContext::new(files, Some("*.env\ndocs\n!docs/keep.md\n")).unwrap();
    assert!(
        ctx.view().exists("/docs/keep.md"),
        "re-included, with its directory"
    );
    assert!(!ctx.view().exists("/docs/drop.md"));
    let err = build_err(
        "FROM scratch\nCOPY secret.env /\n",
        &ctx,
        &BuildOptions::default(),
    );
    assert!(err.contains("\"/secret.env\": not found"));
    let (built, _) = run(
        "FROM scratch\nCOPY . /\n",
        &ctx,
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    assert_eq!(built.layers[0].size(), 1 + 4);
}

#[test]
fn onbuild_triggers_run_once_in_the_child_stage() {
    let dockerfile = "FROM base:1 AS parent\nONBUILD COPY app.py /app/\nONBUILD LABEL from=parent\nFROM parent AS child\nFROM child\n";
    let opts = BuildOptions {
        target: Some("child".into()),
        ..BuildOptions::default()
    };
    let (child, _) = run(dockerfile, &context(), &opts, &mut BuildCache::new());
    let h = history(&child);
    assert_eq!(h[h.len() - 2].0, "COPY app.py /app/ # buildkit");
    assert_eq!(h[h.len() - 1].0, "LABEL from=parent");
    assert_eq!(
        child.config.config.on_build, None,
        "triggers are not inherited by grandchildren"
    );
    let (grandchild, _) = run(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    assert_eq!(grandchild.config.history.len(), child.config.history.len());
    // A trigger may copy from a stage that nothing else uses: that stage is built too.
    let (built, _) = run(
        "FROM scratch AS assets\nCOPY notes.md /n.md\nFROM base:1 AS p\nONBUILD COPY --from=assets /n.md /\nFROM p\n",
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    let fs = merged(&built);
    assert!(fs.exists("/n.md"));
    assert_eq!(
        build_err(
            "FROM base:1 AS p\nONBUILD RUN a\nFROM p\n",
            &context(),
            &BuildOptions::default()
        ),
        "cannot run `/bin/sh -c a`: the simulated engine has no shell yet (RUN is not supported)"
    );
}

#[test]
fn add_extracts_local_tars_and_copy_takes_heredocs_and_excludes() {
    let mut inner = Layer::new();
    inner.insert("site", Entry::dir(Meta::new(0o755, 0)));
    inner.insert(
        "site/index.html",
        Entry::file(Meta::new(0o644, 0), "<h1>hi</h1>"),
    );
    let tar =
        layerbox_core::fs::tar::write_layer(&inner, &layerbox_core::fs::tar::TarOptions::default());
    let mut files = Layer::new();
    files.insert("site.tar", Entry::file(Meta::new(0o644, 0), tar.clone()));
    files.insert(
        "site.tar.gz",
        Entry::file(Meta::new(0o644, 0), layerbox_core::fs::tar::gzip(&tar)),
    );
    files.insert("src", Entry::dir(Meta::new(0o755, 0)));
    files.insert(
        "src/main.rs",
        Entry::file(Meta::new(0o644, 0), "fn main() {}"),
    );
    files.insert(
        "src/main_test.rs",
        Entry::file(Meta::new(0o644, 0), "#[test]"),
    );
    let ctx = BuildContext::new(files, None).unwrap();
    let dockerfile = "FROM scratch\nADD site.tar /srv/\nADD site.tar.gz /gz\nADD --unpack=false site.tar /raw/\nCOPY --exclude=*_test.rs src /src\nCOPY <<EOF /etc/motd\nhello $NAME\nEOF\n";
    let (built, _) = run(
        dockerfile,
        &ctx,
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    let fs = merged(&built);
    assert_eq!(
        fs.read("/srv/site/index.html").unwrap().bytes().unwrap(),
        b"<h1>hi</h1>"
    );
    assert!(
        fs.exists("/gz/site/index.html"),
        "gzipped tars are extracted too"
    );
    assert!(
        fs.exists("/raw/site.tar"),
        "--unpack=false copies the archive"
    );
    assert!(fs.exists("/src/main.rs"));
    assert!(
        !fs.exists("/src/main_test.rs"),
        "--exclude leaves the file out"
    );
    assert_eq!(fs.read("/etc/motd").unwrap().bytes().unwrap(), b"hello \n");
    let h = history(&built);
    assert_eq!(
        h[3].0, "COPY src /src # buildkit",
        "--exclude is not in the history"
    );
    assert_eq!(h[4].0, "COPY <<EOF /etc/motd # buildkit");
}

/// A backend that keeps the environment each RUN got.
#[derive(Default)]
struct Env(Vec<Vec<String>>);

impl RunBackend for Env {
    fn run(&mut self, _: &mut UnionFs, request: &RunRequest) -> Result<i32, String> {
        self.0.push(request.env.clone());
        Ok(0)
    }
}

#[test]
fn proxy_build_args_reach_run_but_not_the_cache_key() {
    let dockerfile = "FROM base:1\nARG V=1\nRUN fetch\n";
    let with_proxy = BuildOptions {
        build_args: [
            ("http_proxy".to_owned(), "http://proxy:3128".to_owned()),
            ("OTHER".to_owned(), "x".to_owned()),
        ]
        .into(),
        ..BuildOptions::default()
    };
    let mut cache = BuildCache::new();
    let mut env = Env::default();
    let first = build(
        dockerfile,
        &context(),
        &with_proxy,
        &images(),
        &mut env,
        &mut cache,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(
        env.0[0],
        [
            "PATH=/usr/bin:/bin",
            "LANG=C",
            "V=1",
            "http_proxy=http://proxy:3128"
        ],
        "undeclared OTHER is ignored"
    );
    assert_eq!(
        history(&first)[2].0,
        "RUN |1 V=1 /bin/sh -c fetch # buildkit"
    );
    let mut events = Vec::new();
    build(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &images(),
        &mut env,
        &mut cache,
        &mut |e| events.push(e),
    )
    .unwrap();
    assert_eq!(
        outcomes(&events),
        ["hit"],
        "the proxy is not part of the cache key"
    );
}

/// The differences the docker oracle (crates/cli/tests/docker_oracle, real BuildKit) found in
/// the config, kept fixed: ENTRYPOINT leaves `ArgsEscaped` alone (only CMD sets it), `CMD []`
/// leaves no `Cmd` in the config JSON, and a base's empty `User`/`WorkingDir` (an imported
/// image's) are dropped as BuildKit's omitempty struct drops them.
#[test]
fn docker_oracle_config_findings_stay_fixed() {
    let opts = BuildOptions::default();
    let (built, _) = run(
        "FROM base:1\nENTRYPOINT echo hi\n",
        &context(),
        &opts,
        &mut BuildCache::new(),
    );
    assert_eq!(built.config.config.args_escaped, None);
    let (built, _) = run(
        "FROM base:1\nCMD []\n",
        &context(),
        &opts,
        &mut BuildCache::new(),
    );
    assert_eq!(built.config.config.cmd, None);
    let json = String::from_utf8(built.config.to_json()).unwrap();
    assert!(!json.contains("\"Cmd\""), "{json}");
    assert!(json.contains("\"ArgsEscaped\":true"), "{json}");

    let mut images = images();
    let base = images.get_mut(&"base:1".parse().unwrap()).unwrap();
    base.config.config.user = Some(String::new());
    base.config.config.working_dir = Some(String::new());
    let built = build(
        "FROM base:1\nLABEL a=b\n",
        &context(),
        &opts,
        &images,
        &mut NoRun,
        &mut BuildCache::new(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(built.config.config.user, None);
    assert_eq!(built.config.config.working_dir, None);
}

/// `bb:1`: `/bin` (mode `bin_mode`) with `busybox` and the applet link `cat -> busybox`.
fn busybox_like(bin_mode: u32) -> BTreeMap<Reference, BaseImage> {
    let mut fs = UnionFs::new(LayerStack::new());
    fs.mkdir_all("/bin", bin_mode).unwrap();
    fs.write("/bin/busybox", b"ELF", 0o755).unwrap();
    fs.symlink("busybox", "/bin/cat").unwrap();
    [(
        "bb:1".parse().unwrap(),
        BaseImage::new(ImageConfig::default(), [Arc::new(fs.into_upper())]).unwrap(),
    )]
    .into()
}

/// Found by the docker oracle: BuildKit resolves a COPY destination following symlinks, the
/// last component too, so copying onto busybox's `/bin/cat -> busybox` rewrites the binary.
#[test]
fn copy_onto_a_symlink_writes_through_it() {
    let images = busybox_like(0o755);
    let built = build(
        "FROM bb:1\nCOPY app.py /bin/cat\n",
        &context(),
        &BuildOptions::default(),
        &images,
        &mut NoRun,
        &mut BuildCache::new(),
        &mut |_| {},
    )
    .unwrap();
    let layer = built.layers.last().unwrap();
    let changed: Vec<&str> = layer
        .iter()
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(changed, ["bin", "bin/busybox"]);
    let fs = merged(&built);
    assert_eq!(fs.read_link("/bin/cat").unwrap(), "busybox");
    assert_eq!(
        fs.read("/bin/busybox").unwrap().bytes().unwrap(),
        b"print('hi')\n"
    );
}

/// `COPY --parents` (spec §13.8): each source keeps its path under the destination, from its
/// `/./` pivot on; wildcards and `**` select as usual; history shows `--parents` first.
#[test]
fn copy_parents_keeps_the_source_paths() {
    let dockerfile = "FROM base:1\nCOPY --parents src/a.rs notes.md /dst/\nCOPY --parents ./src/./b.rs /pivot\nCOPY --parents src/*.rs /wild/\nCOPY --parents **/a.rs /any/\nCOPY --parents --chown=app src /dir/\n";
    let (built, _) = run(
        dockerfile,
        &context(),
        &BuildOptions::default(),
        &mut BuildCache::new(),
    );
    let fs = merged(&built);
    for path in [
        "/dst/src/a.rs",
        "/dst/notes.md",
        "/pivot/b.rs",
        "/wild/src/a.rs",
        "/wild/src/b.rs",
        "/any/src/a.rs",
        "/dir/src/a.rs",
    ] {
        assert!(fs.exists(path), "{path}");
    }
    assert!(!fs.exists("/pivot/src"));
    assert_eq!(fs.stat("/dir/src/b.rs").unwrap().uid, 1000);
    let h = history(&built);
    assert_eq!(h[1].0, "COPY --parents src/a.rs notes.md /dst/ # buildkit");
    assert_eq!(h[5].0, "COPY --parents --chown=app src /dir/ # buildkit");
}

/// `--link` (spec §13.8, §15.1): the copy is made on an empty filesystem and stacked on top, so
/// it follows no symlink of the stage, creates its parents afresh, keeps its cache entry when
/// earlier steps change, and leaves no trace in history; `--chmod` turns it off.
#[test]
fn copy_link_makes_an_independent_layer() {
    let images = busybox_like(0o700);
    let build_with = |dockerfile: &str, context: &BuildContext, cache: &mut BuildCache| {
        let mut events = Vec::new();
        let built = build(
            dockerfile,
            context,
            &BuildOptions::default(),
            &images,
            &mut NoRun,
            cache,
            &mut |e| events.push(e),
        )
        .unwrap();
        (built, events)
    };
    let (built, _) = build_with(
        "FROM bb:1\nCOPY --link app.py /bin/cat\n",
        &context(),
        &mut BuildCache::new(),
    );
    let layer = built.layers.last().unwrap();
    let bin = layer.entry("bin").unwrap().1;
    assert_eq!(bin.meta.mode, 0o755, "parents are made afresh");
    let fs = merged(&built);
    assert_eq!(
        fs.read("/bin/cat").unwrap().bytes().unwrap(),
        b"print('hi')\n"
    );
    assert_eq!(fs.read("/bin/busybox").unwrap().bytes().unwrap(), b"ELF");
    assert_eq!(history(&built)[0].0, "COPY app.py /bin/cat # buildkit");

    // With --chmod, --link is ignored: the copy follows the symlink as a plain COPY does.
    let (built, _) = build_with(
        "FROM bb:1\nCOPY --link --chmod=600 app.py /bin/cat\n",
        &context(),
        &mut BuildCache::new(),
    );
    let fs = merged(&built);
    assert_eq!(fs.read_link("/bin/cat").unwrap(), "busybox");

    // Changing an earlier step rebuilds a plain COPY after it, but not a --link one.
    let dockerfile =
        "FROM bb:1\nCOPY app.py /a/\nCOPY --link requirements.txt /r/\nCOPY notes.md /n/\n";
    let mut cache = BuildCache::new();
    build_with(dockerfile, &context(), &mut cache);
    let changed = BuildContext::from_files(&[
        ("app.py", "print('changed')\n"),
        ("requirements.txt", "flask\n"),
        ("notes.md", "draft\n"),
    ])
    .unwrap();
    let (_, events) = build_with(dockerfile, &changed, &mut cache);
    assert_eq!(
        outcomes(&events),
        ["miss: app.py changed", "hit", "miss: parent step rebuilt"]
    );
}
