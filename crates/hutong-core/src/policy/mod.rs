//! The policy: departments, regions, the qualification directory, certificate kinds with their
//! lifecycle rules, and occupations with their standards. Loaded from `policy/*.toml`, validated
//! as a whole, and compiled into [`Policy`]. See `docs/policy-format.md`.

mod model;
pub mod raw;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use model::*;

use crate::lifecycle::Lifecycle;

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub departments: BTreeMap<String, Department>,
    pub regions: BTreeMap<String, Region>,
    pub qualifications: BTreeMap<String, Qualification>,
    pub lifecycles: BTreeMap<String, Lifecycle>,
    pub kinds: BTreeMap<String, Kind>,
    pub occupations: BTreeMap<String, Occupation>,
    /// Mutual-recognition rules of measure M1, sorted by id.
    pub exemption_rules: Vec<ExemptionRule>,
    /// Deemed-level rules of measure M2, sorted by id.
    pub deemed_level_rules: Vec<DeemedLevelRule>,
    /// Regional and departmental exceptions to those rules, sorted by id.
    pub exceptions: Vec<Exception>,
    /// What the policy does not know about a held kind, sorted by id.
    pub open_questions: Vec<OpenQuestion>,
    /// Status reasons with their national codes and legal bases, by id.
    pub status_reasons: BTreeMap<String, StatusReason>,
    /// SHA-256 over the files' names and text, so that answers can say which policy made them.
    pub digest: String,
    /// The files the policy was read from, in reading order.
    pub files: Vec<String>,
}

/// One problem found in a policy folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    /// 1-based line, or 0 when the problem is not tied to a line (an unreadable file).
    pub line: usize,
    /// The entry the problem is in, as `kind "mem.x"`, when there is one.
    pub entry: Option<String>,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": ")?;
        if let Some(e) = &self.entry {
            write!(f, "{e}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyErrors {}

/// A policy file's name (as it will appear in errors) and text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Policy {
    /// Reads and validates every `*.toml` file in `dir`.
    pub fn load_dir(dir: &Path) -> Result<Policy, PolicyErrors> {
        let shown = dir.display().to_string();
        let one = |line, message: String| {
            PolicyErrors(vec![PolicyError {
                file: shown.clone(),
                line,
                entry: None,
                message,
            }])
        };
        let entries = std::fs::read_dir(dir)
            .map_err(|e| one(0, format!("cannot read the policy folder: {e}")))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(one(0, "the policy folder has no .toml files".to_string()));
        }
        let mut sources = Vec::new();
        let mut errors = Vec::new();
        for p in paths {
            match std::fs::read_to_string(&p) {
                Ok(text) => sources.push(Source {
                    name: p.display().to_string(),
                    text,
                }),
                Err(e) => errors.push(PolicyError {
                    file: p.display().to_string(),
                    line: 0,
                    entry: None,
                    message: format!("cannot read the file: {e}"),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(PolicyErrors(errors));
        }
        Policy::from_sources(&sources)
    }

    /// Validates and compiles a policy from files already read.
    pub fn from_sources(sources: &[Source]) -> Result<Policy, PolicyErrors> {
        let mut h = Sha256::new();
        for s in sources {
            h.update(s.name.rsplit('/').next().unwrap_or(&s.name).as_bytes());
            h.update([0]);
            h.update(s.text.as_bytes());
            h.update([0]);
        }
        let digest = hex::encode(&h.finalize()[..16]);
        let mut policy = validate::compile(sources)?;
        policy.digest = digest;
        Ok(policy)
    }

    /// A status reason by id (`withdrawn`, `held`, `review-missed`, …).
    pub fn status_reason(&self, id: &str) -> Option<&StatusReason> {
        self.status_reasons.get(id)
    }

    pub fn kind(&self, id: &str) -> Option<&Kind> {
        self.kinds.get(id)
    }

    /// The lifecycle rule of a kind. Every kind has one: validation guarantees it.
    pub fn lifecycle_of<'k>(&self, kind: &'k Kind) -> &'k Lifecycle {
        &kind.lifecycle_rule
    }

    /// A registered certificate's status on `day`, under its kind's lifecycle rule. `None` when
    /// the certificate's kind is not in this policy.
    pub fn status_of(
        &self,
        cert: &crate::Certificate,
        day: crate::Day,
    ) -> Option<crate::StatusReport> {
        let kind = self.kind(&cert.kind)?;
        Some(self.lifecycle_of(kind).status_on(&cert.dates(), day))
    }

    /// What a certificate number says about its kind: every kind whose scheme the number fits
    /// and, for schemes with codes, whose code it carries, in id order. A `mohurd-provincial`
    /// number names at most one kind (validation refuses a code shared by two); a number that
    /// embeds an ID number fits every kind of its scheme. `number` is normalised first.
    pub fn read_number(&self, number: &str) -> Vec<NumberReading<'_>> {
        let number = crate::number::normalize(number);
        let mut decoded: Vec<(crate::number::NumberScheme, Option<crate::number::Decoded>)> =
            Vec::new();
        let mut out = Vec::new();
        for kind in self.kinds.values() {
            let d = match decoded.iter().find(|(s, _)| *s == kind.number_scheme) {
                Some((_, d)) => d.clone(),
                None => {
                    let d = crate::number::decode(kind.number_scheme, &number).ok();
                    decoded.push((kind.number_scheme, d.clone()));
                    d
                }
            };
            let Some(d) = d else { continue };
            let code = match d.scheme_code() {
                Some(c) if !kind.scheme_codes.is_empty() => match kind.scheme_code(c) {
                    Some(entry) => Some(entry),
                    None => continue,
                },
                _ => None,
            };
            out.push(NumberReading {
                kind,
                decoded: d,
                code,
            });
        }
        out
    }

    /// The notes of a kind (its own, then its lifecycle's) that every verification answer for a
    /// certificate of that kind carries; none for a kind the policy does not know.
    pub fn notes_of(&self, kind: &str) -> &[Note] {
        self.kinds
            .get(kind)
            .map(|k| k.notes.as_slice())
            .unwrap_or(&[])
    }

    pub fn occupation(&self, code: &str) -> Option<&Occupation> {
        self.occupations.get(code)
    }

    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.get(code)
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.get(id)
    }

    /// The recognition rules and open questions that name `kind` as the held certificate (none
    /// when no rule names it). Built once at load and kept with the kind
    /// ([`Kind::recognition`]), so finding a holding's kind finds its rules.
    pub fn rules_for(&self, kind: &str) -> Option<&HeldRules> {
        self.kinds
            .get(kind)
            .map(|k| &k.recognition)
            .filter(|r| !r.is_empty())
    }

    pub fn exemption_rule(&self, id: &str) -> Option<&ExemptionRule> {
        let i = self
            .exemption_rules
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()?;
        Some(&self.exemption_rules[i])
    }

    pub fn deemed_level_rule(&self, id: &str) -> Option<&DeemedLevelRule> {
        let i = self
            .deemed_level_rules
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()?;
        Some(&self.deemed_level_rules[i])
    }

    pub fn exception(&self, id: &str) -> Option<&Exception> {
        let i = self
            .exceptions
            .binary_search_by(|r| r.id.as_str().cmp(id))
            .ok()?;
        Some(&self.exceptions[i])
    }

    /// Whether a kind is state-recognised by the directory: its qualification is listed there, or
    /// it is a skill level certificate (recognised when its issuer is a registered institution).
    pub fn directory_entry(&self, kind: &Kind) -> Option<&Qualification> {
        kind.qualification
            .as_ref()
            .and_then(|q| self.qualifications.get(q))
    }
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
