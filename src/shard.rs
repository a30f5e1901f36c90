//! Sharding: the label selector a replica watches with (`--watch-label-selector`), checked at start-up,
//! and the Lease a replica with a selector takes.
//!
//! Several Deployments of the operator can share a cluster when each watches a disjoint part of the
//! resources, the convention Flux uses: the main one watches `!backup.hwcloud.dev/shard`, shard `a`
//! watches `backup.hwcloud.dev/shard=a`. Each replica then lists, watches, reconciles and counts only
//! what its selector matches, and elects its leader on a Lease of its own.
//!
//! The API server would refuse a malformed selector on every LIST, and the operator would retry
//! forever without becoming ready; parsing it here turns that into an error at start-up instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use kube::core::{Expression, Selector, SelectorExt};
use sha2::{Digest, Sha256};

/// The label that assigns a resource to a shard (a `BackupSchedule` passes its own on to its children).
pub use crate::crd::backup_schedule::SHARD_LABEL;

/// Hex digits of the selector's SHA-256 in a derived Lease name: enough to keep shards apart.
const LEASE_HASH_LEN: usize = 10;
/// Longest label name, and longest label value (Kubernetes' limits).
const MAX_NAME: usize = 63;
/// Longest label key prefix (a DNS subdomain).
const MAX_PREFIX: usize = 253;

/// A parsed label selector, as the API server reads it (`a=b`, `a==b`, `a!=b`, `a`, `!a`,
/// `a in (x,y)`, `a notin (x,y)`, comma-separated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSelector {
    selector: Selector,
    /// The selector in the API server's canonical text (`==` written `=`, no blanks, sets sorted).
    text: String,
}

impl WatchSelector {
    /// Parses and checks `input`; an empty selector is refused (leave the flag out to watch everything).
    pub fn parse(input: &str) -> Result<Self, String> {
        let mut exprs = Vec::new();
        for term in split_terms(input) {
            if term.is_empty() {
                return Err(format!(
                    "invalid label selector {input:?}: empty term (leave the flag out to watch every resource)"
                ));
            }
            exprs.push(
                parse_term(&term).map_err(|e| format!("invalid label selector {input:?}: {e}"))?,
            );
        }
        let selector: Selector = exprs.into_iter().collect();
        Ok(Self {
            text: selector.to_string(),
            selector,
        })
    }

    /// The canonical text, as sent to the API server and shown in the `shard` metric label.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether an object with `labels` is one this selector watches.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.selector.matches(labels)
    }

    /// The Lease of a replica with this selector when no `--lease-name` is given: `<base>-<hash>`,
    /// the first hex digits of the SHA-256 of the canonical text. Replicas of one shard share it,
    /// replicas of different shards never do.
    pub fn lease_name(&self, base: &str) -> String {
        let hash = hex::encode(Sha256::digest(self.text.as_bytes()));
        format!("{base}-{}", &hash[..LEASE_HASH_LEN])
    }
}

impl fmt::Display for WatchSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Splits on commas outside parentheses; terms come back trimmed.
fn split_terms(raw: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in raw.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

fn parse_term(term: &str) -> Result<Expression, String> {
    if let Some(key) = term.strip_prefix('!') {
        return Ok(Expression::DoesNotExist(key_of(key.trim())?));
    }
    if let Some((key, rest)) = term.split_once(char::is_whitespace) {
        let rest = rest.trim_start();
        let (op, set) = if let Some(set) = rest.strip_prefix("notin") {
            ("notin", set)
        } else if let Some(set) = rest.strip_prefix("in") {
            ("in", set)
        } else {
            return parse_comparison(term);
        };
        let values = set_of(set.trim())?;
        let key = key_of(key)?;
        return Ok(match op {
            "in" => Expression::In(key, values),
            _ => Expression::NotIn(key, values),
        });
    }
    parse_comparison(term)
}

/// `a=b`, `a==b`, `a!=b` or a bare key.
fn parse_comparison(term: &str) -> Result<Expression, String> {
    if let Some((k, v)) = term.split_once("!=") {
        return Ok(Expression::NotEqual(key_of(k.trim())?, value_of(v.trim())?));
    }
    if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
        return Ok(Expression::Equal(key_of(k.trim())?, value_of(v.trim())?));
    }
    if term.contains(['<', '>']) {
        return Err(format!("{term:?}: the operators < and > are not supported"));
    }
    Ok(Expression::Exists(key_of(term)?))
}

/// `(x, y)`: at least one value, as the API server requires for `in` and `notin`.
fn set_of(raw: &str) -> Result<BTreeSet<String>, String> {
    let inner = raw
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| format!("{raw:?}: expected a set of values in parentheses"))?;
    let values = inner
        .split(',')
        .map(|v| value_of(v.trim()))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if values.iter().all(String::is_empty) {
        return Err("`in` and `notin` need at least one value".into());
    }
    Ok(values)
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name.
fn key_of(raw: &str) -> Result<String, String> {
    let (prefix, name) = match raw.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, raw),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= MAX_PREFIX
            && prefix.split('.').all(|part| {
                let b = part.as_bytes();
                !b.is_empty()
                    && b.iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                    && b[0] != b'-'
                    && b[b.len() - 1] != b'-'
            });
        if !ok {
            return Err(format!(
                "{raw:?}: the key prefix must be a DNS subdomain (lowercase letters, digits, '-' and '.')"
            ));
        }
    }
    if name.is_empty() || !is_label_word(name) {
        return Err(format!(
            "{raw:?}: a label key is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(raw.to_string())
}

/// A label value: empty, or like a key's name part.
fn value_of(raw: &str) -> Result<String, String> {
    if raw.is_empty() || is_label_word(raw) {
        Ok(raw.to_string())
    } else {
        Err(format!(
            "{raw:?}: a label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

fn is_label_word(s: &str) -> bool {
    let b = s.as_bytes();
    let inner = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
    !b.is_empty()
        && b.len() <= MAX_NAME
        && b.iter().all(inner)
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
#[path = "shard_tests.rs"]
mod tests;
