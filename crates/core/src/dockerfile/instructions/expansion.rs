//! What gets expanded, with what (spec §11): each instruction expands exactly the values
//! BuildKit expands, with the stage's build-time environment as it was before the instruction.
//!
//! ```
//! use std::collections::BTreeMap;
//! use layerbox_core::dockerfile::{self, expand::Lexer, instructions::Instruction};
//!
//! let df = dockerfile::parse("FROM a\nWORKDIR /app/$NAME\nCMD echo $NAME\n").unwrap();
//! let env = BTreeMap::from([("NAME".to_string(), "web".to_string())]);
//! let lex = Lexer::new(df.escape_token);
//! let Instruction::Workdir(w) = df.stages[0].instructions[0].expand(&lex, &env).unwrap() else { panic!() };
//! assert_eq!(w.path, "/app/web");
//! // CMD is never expanded by the builder: the shell does it.
//! assert_eq!(df.stages[0].instructions[1].expand(&lex, &env).unwrap(), df.stages[0].instructions[1]);
//! ```

use serde::Serialize;
use thiserror::Error;

use super::{Instruction, KeyValuePair, Meta, SourcesAndDest, Stage};
use crate::dockerfile::expand::{Env, ExpandError, Lexer, NoEnv};
use crate::dockerfile::parser::Location;

/// Why expanding an instruction failed.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
pub enum ExpansionErrorKind {
    /// The lexer failed (`failed to process "…": …`).
    #[error(transparent)]
    Expand(Box<ExpandError>),
    /// `COPY --from=$X`.
    #[error(
        "variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"
    )]
    FromNotLiteral,
    /// A VOLUME path that expands to nothing.
    #[error("VOLUME specified can not be an empty string")]
    EmptyVolume,
    /// A FROM base that expands to nothing.
    #[error("base name ({0}) should not be blank")]
    BlankBase(String),
    /// A FROM `--platform` that expands to nothing.
    #[error("empty platform value from expression {0}")]
    EmptyPlatform(String),
}

/// An expansion error with the instruction's location.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{kind}")]
pub struct ExpansionError {
    /// What went wrong.
    pub kind: ExpansionErrorKind,
    /// The instruction concerned.
    pub location: Location,
}

impl ExpansionError {
    fn at(meta: &Meta, kind: ExpansionErrorKind) -> Self {
        ExpansionError {
            kind,
            location: meta.location,
        }
    }

    /// A stable code for diagnostics.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            ExpansionErrorKind::Expand(e) => e.code(),
            ExpansionErrorKind::FromNotLiteral => "from-not-literal",
            ExpansionErrorKind::EmptyVolume => "empty-volume",
            ExpansionErrorKind::BlankBase(_) => "blank-base-name",
            ExpansionErrorKind::EmptyPlatform(_) => "empty-platform",
        }
    }
}

struct Expander<'a, E: Env + ?Sized> {
    lex: &'a Lexer,
    env: &'a E,
    meta: &'a Meta,
}

impl<E: Env + ?Sized> Expander<'_, E> {
    fn err(&self, e: ExpandError) -> ExpansionError {
        ExpansionError::at(self.meta, ExpansionErrorKind::Expand(Box::new(e)))
    }

    fn word(&self, s: &str) -> Result<String, ExpansionError> {
        self.lex.process_word(s, self.env).map_err(|e| self.err(e))
    }

    fn opt_word(&self, s: &str) -> Result<String, ExpansionError> {
        if s.is_empty() {
            Ok(String::new())
        } else {
            self.word(s)
        }
    }

    fn pairs(&self, pairs: &[KeyValuePair]) -> Result<Vec<KeyValuePair>, ExpansionError> {
        pairs
            .iter()
            .map(|p| {
                Ok(KeyValuePair {
                    key: self.word(&p.key)?,
                    value: self.word(&p.value)?,
                    no_delim: p.no_delim,
                })
            })
            .collect()
    }

    fn sources(&self, s: &SourcesAndDest) -> Result<SourcesAndDest, ExpansionError> {
        let body = Lexer::heredoc_body();
        let mut out = s.clone();
        out.dest_path = self.word(&s.dest_path)?;
        out.source_paths = s
            .source_paths
            .iter()
            .map(|p| self.word(p))
            .collect::<Result<_, _>>()?;
        for c in &mut out.source_contents {
            if c.expand {
                c.data = body
                    .process_word(&c.data, self.env)
                    .map_err(|e| self.err(e))?;
            }
        }
        Ok(out)
    }
}

impl Instruction {
    /// The instruction with the values BuildKit expands replaced by their expansion (spec §11):
    /// ENV/LABEL keys and values, ARG defaults, COPY/ADD sources, destination, `--chown`,
    /// `--chmod`, `--checksum` and unquoted heredoc bodies, WORKDIR, USER, STOPSIGNAL, VOLUME
    /// paths, EXPOSE words (split like ProcessWords). RUN mounts are expanded by
    /// [`super::RunCommand::parsed_mounts`]; CMD, ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and
    /// ONBUILD are returned unchanged. `env` is the environment before this instruction.
    pub fn expand(
        &self,
        lex: &Lexer,
        env: &(impl Env + ?Sized),
    ) -> Result<Instruction, ExpansionError> {
        let x = Expander {
            lex,
            env,
            meta: self.meta(),
        };
        let mut out = self.clone();
        match &mut out {
            Instruction::Env(c) => c.env = x.pairs(&c.env)?,
            Instruction::Label(c) => c.labels = x.pairs(&c.labels)?,
            Instruction::Arg(c) => {
                for a in &mut c.args {
                    if let Some(v) = &a.value {
                        a.value = Some(x.word(v)?);
                    }
                }
            }
            Instruction::Add(c) => {
                c.sources = x.sources(&c.sources)?;
                c.chown = x.opt_word(&c.chown)?;
                c.chmod = x.opt_word(&c.chmod)?;
                c.checksum = x.opt_word(&c.checksum)?;
            }
            Instruction::Copy(c) => {
                // --from must be literal: lexing it with an empty environment must not change it.
                if !c.from.is_empty()
                    && lex.process_word(&c.from, &NoEnv).ok().as_deref() != Some(c.from.as_str())
                {
                    return Err(ExpansionError::at(
                        &c.meta,
                        ExpansionErrorKind::FromNotLiteral,
                    ));
                }
                c.sources = x.sources(&c.sources)?;
                c.chown = x.opt_word(&c.chown)?;
                c.chmod = x.opt_word(&c.chmod)?;
            }
            Instruction::Workdir(c) => c.path = x.word(&c.path)?,
            Instruction::User(c) => c.user = x.word(&c.user)?,
            Instruction::Stopsignal(c) => c.signal = x.word(&c.signal)?,
            Instruction::Volume(c) => {
                for v in &mut c.volumes {
                    *v = x.word(v)?;
                    if v.trim().is_empty() {
                        return Err(ExpansionError::at(&c.meta, ExpansionErrorKind::EmptyVolume));
                    }
                }
            }
            Instruction::Expose(c) => {
                let mut ports = Vec::new();
                for p in &c.ports {
                    ports.extend(lex.process_words(p, env).map_err(|e| x.err(e))?);
                }
                c.ports = ports;
            }
            Instruction::Run(_)
            | Instruction::Cmd(_)
            | Instruction::Entrypoint(_)
            | Instruction::Shell(_)
            | Instruction::Healthcheck(_)
            | Instruction::Maintainer(_)
            | Instruction::Onbuild(_) => {}
        }
        Ok(out)
    }
}

impl Stage {
    /// The base name and platform expanded with the global args (meta ARGs and built-ins) only,
    /// as FROM does (spec §13.1–§13.2).
    pub fn expand_base(
        &self,
        lex: &Lexer,
        global: &(impl Env + ?Sized),
    ) -> Result<(String, Option<String>), ExpansionError> {
        let x = Expander {
            lex,
            env: global,
            meta: &self.meta,
        };
        let base = x.word(&self.base_name)?;
        if base.is_empty() {
            return Err(ExpansionError::at(
                &self.meta,
                ExpansionErrorKind::BlankBase(self.base_name.clone()),
            ));
        }
        let platform = match &self.platform {
            None => None,
            Some(p) => {
                let v = x.word(p)?;
                if v.is_empty() {
                    return Err(ExpansionError::at(
                        &self.meta,
                        ExpansionErrorKind::EmptyPlatform(p.clone()),
                    ));
                }
                Some(v)
            }
        };
        Ok((base, platform))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile;
    use crate::dockerfile::expand::env_from_list;

    fn expand_all(src: &str, env: &[&str]) -> Result<Vec<Instruction>, ExpansionError> {
        let df = dockerfile::parse(src).unwrap();
        let env = env_from_list(env);
        let lex = Lexer::new(df.escape_token);
        df.stages[0]
            .instructions
            .iter()
            .map(|i| i.expand(&lex, &env))
            .collect()
    }

    #[test]
    fn expands_what_buildkit_expands() {
        let src = "FROM a\nENV $K=\"$V x\" OLD=$V\nCOPY --chown=$U <<EOF <<'RAW' $SRC /d/$V/\nhi \"$V\" \\$V\nEOF\n$V\nRAW\nEXPOSE $PORTS\nRUN echo $V\nVOLUME $V\n";
        let out = expand_all(
            src,
            &["K=key", "V=val", "U=1000", "SRC=app", "PORTS=80 443/udp"],
        )
        .unwrap();
        let Instruction::Env(e) = &out[0] else {
            panic!()
        };
        assert_eq!(
            (e.env[0].key.as_str(), e.env[0].value.as_str()),
            ("key", "val x")
        );
        let Instruction::Copy(c) = &out[1] else {
            panic!()
        };
        assert_eq!(c.chown, "1000");
        assert_eq!(c.sources.source_paths, ["app"]);
        assert_eq!(c.sources.dest_path, "/d/val/");
        assert_eq!(c.sources.source_contents[0].data, "hi \"val\" $V\n");
        assert_eq!(c.sources.source_contents[1].data, "$V\n");
        let Instruction::Expose(x) = &out[2] else {
            panic!()
        };
        assert_eq!(x.ports, ["80", "443/udp"]);
        let Instruction::Run(r) = &out[3] else {
            panic!()
        };
        assert_eq!(r.cmd.cmd_line, ["echo $V"]);
    }

    #[test]
    fn errors() {
        let e = expand_all("FROM a\nCOPY --from=$X a b\n", &[]).unwrap_err();
        assert_eq!(e.code(), "from-not-literal");
        let e = expand_all("FROM a\nVOLUME $EMPTY\n", &[]).unwrap_err();
        assert_eq!(e.to_string(), "VOLUME specified can not be an empty string");
        let e = expand_all("FROM a\nWORKDIR ${X:?set X}\n", &[]).unwrap_err();
        assert_eq!(e.to_string(), "failed to process \"${X:?set X}\": X: set X");
        assert_eq!(e.location.line, 2);

        let df = dockerfile::parse("FROM $BASE\n").unwrap();
        let lex = Lexer::new('\\');
        let e = df.stages[0].expand_base(&lex, &NoEnv).unwrap_err();
        assert_eq!(e.to_string(), "base name ($BASE) should not be blank");
        let env = env_from_list(&["BASE=alpine"]);
        assert_eq!(
            df.stages[0].expand_base(&lex, &env).unwrap(),
            ("alpine".to_string(), None)
        );
    }
}
