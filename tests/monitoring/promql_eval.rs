//! Evaluates a PromQL expression at one instant over the gauges of one scrape, with Prometheus's
//! semantics for the few constructs the chart's rules use: selectors with matchers, numbers, `time()`,
//! parentheses, arithmetic and comparison between vectors and scalars (one-to-one matching, `on` and
//! `ignoring`), and `unless`. Anything else is an error, so a rule that grows past this evaluator
//! fails its test instead of being half evaluated.

use std::collections::BTreeMap;

use promql_parser::label::METRIC_NAME;
use promql_parser::parser::{self, BinModifier, BinaryExpr, Expr, LabelModifier};

/// A series' labels, its name under `__name__`.
pub type Labels = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(f64),
    Vector(Vec<Sample>),
}

/// The samples of an OpenMetrics/Prometheus text scrape (label values without escapes).
pub fn parse_scrape(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut map = Labels::from([(METRIC_NAME.to_string(), name.to_string())]);
            for pair in labels.split(',').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').expect("label=value");
                map.insert(k.to_string(), v.trim_matches('"').to_string());
            }
            Sample {
                labels: map,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// Evaluates `expr` at Unix time `now` over `series`.
pub fn eval_str(expr: &str, series: &[Sample], now: f64) -> Result<Value, String> {
    eval(&parser::parse(expr)?, series, now)
}

pub fn eval(expr: &Expr, series: &[Sample], now: f64) -> Result<Value, String> {
    match expr {
        Expr::NumberLiteral(n) => Ok(Value::Scalar(n.val)),
        Expr::Paren(p) => eval(&p.expr, series, now),
        Expr::Call(c) if c.func.name == "time" && c.args.args.is_empty() => Ok(Value::Scalar(now)),
        Expr::VectorSelector(vs) if vs.offset.is_none() && vs.at.is_none() => {
            if !vs.matchers.or_matchers.is_empty() {
                return Err(format!("`or` matchers are not supported: {expr}"));
            }
            let picked = series.iter().filter(|s| {
                vs.name.as_ref().is_none_or(|n| s.labels[METRIC_NAME] == *n)
                    && vs.matchers.matchers.iter().all(|m| {
                        m.is_match(s.labels.get(&m.name).map(String::as_str).unwrap_or(""))
                    })
            });
            Ok(Value::Vector(picked.cloned().collect()))
        }
        Expr::Binary(b) => binary(b, series, now),
        other => Err(format!("not supported by this evaluator: {other}")),
    }
}

fn binary(b: &BinaryExpr, series: &[Sample], now: f64) -> Result<Value, String> {
    let op = b.op.to_string();
    let lhs = eval(&b.lhs, series, now)?;
    let rhs = eval(&b.rhs, series, now)?;
    let modifier = b.modifier.as_ref();
    if modifier.is_some_and(|m| m.return_bool) {
        return Err("`bool` is not supported".into());
    }
    let comparison = b.op.is_comparison_operator();
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(r)) if !comparison => Ok(Value::Scalar(arith(&op, l, r)?)),
        (Value::Vector(v), Value::Scalar(s)) => scalar_side(&op, comparison, v, |x| (x, s)),
        (Value::Scalar(s), Value::Vector(v)) => scalar_side(&op, comparison, v, |x| (s, x)),
        (Value::Vector(l), Value::Vector(r)) if op == "unless" => {
            let keys: Vec<Labels> = r.iter().map(|s| signature(&s.labels, modifier)).collect();
            Ok(Value::Vector(
                l.into_iter()
                    .filter(|s| !keys.contains(&signature(&s.labels, modifier)))
                    .collect(),
            ))
        }
        (Value::Vector(l), Value::Vector(r)) if !b.op.is_set_operator() => {
            one_to_one(&op, comparison, l, &r, modifier)
        }
        _ => Err(format!("operands of `{op}` not supported")),
    }
}

/// A vector against a scalar: arithmetic drops the name; a comparison filters and keeps the sample.
fn scalar_side(
    op: &str,
    comparison: bool,
    v: Vec<Sample>,
    operands: impl Fn(f64) -> (f64, f64),
) -> Result<Value, String> {
    let mut out = Vec::new();
    for mut s in v {
        let (l, r) = operands(s.value);
        if comparison {
            if compare(op, l, r)? {
                out.push(s);
            }
        } else {
            s.value = arith(op, l, r)?;
            s.labels.remove(METRIC_NAME);
            out.push(s);
        }
    }
    Ok(Value::Vector(out))
}

/// Vector against vector, each left sample with the one right sample of the same signature.
fn one_to_one(
    op: &str,
    comparison: bool,
    l: Vec<Sample>,
    r: &[Sample],
    modifier: Option<&BinModifier>,
) -> Result<Value, String> {
    if modifier.is_some_and(|m| m.card.labels().is_some()) {
        return Err("group_left/group_right are not supported".into());
    }
    let mut right: BTreeMap<Labels, &Sample> = BTreeMap::new();
    for s in r {
        if right.insert(signature(&s.labels, modifier), s).is_some() {
            return Err(format!("many-to-one matching on the right of `{op}`"));
        }
    }
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for s in l {
        let key = signature(&s.labels, modifier);
        let Some(other) = right.get(&key) else {
            continue;
        };
        if seen.contains(&key) {
            return Err(format!("many-to-one matching on the left of `{op}`"));
        }
        seen.push(key.clone());
        if comparison {
            if compare(op, s.value, other.value)? {
                out.push(s);
            }
            continue;
        }
        let mut labels = match modifier.and_then(|m| m.matching.as_ref()) {
            Some(LabelModifier::Include(_)) => key,
            _ => s.labels.clone(),
        };
        if let Some(LabelModifier::Exclude(ignored)) = modifier.and_then(|m| m.matching.as_ref()) {
            labels.retain(|k, _| !ignored.labels.contains(k));
        }
        labels.remove(METRIC_NAME);
        out.push(Sample {
            labels,
            value: arith(op, s.value, other.value)?,
        });
    }
    Ok(Value::Vector(out))
}

/// The labels two samples are matched by: `on (...)` names them; otherwise all but the name and
/// those `ignoring (...)` names.
fn signature(labels: &Labels, modifier: Option<&BinModifier>) -> Labels {
    match modifier.and_then(|m| m.matching.as_ref()) {
        Some(LabelModifier::Include(on)) => labels
            .iter()
            .filter(|(k, _)| on.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        matching => labels
            .iter()
            .filter(|(k, _)| *k != METRIC_NAME)
            .filter(|(k, _)| match matching {
                Some(LabelModifier::Exclude(ignored)) => !ignored.labels.contains(k),
                _ => true,
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn arith(op: &str, l: f64, r: f64) -> Result<f64, String> {
    Ok(match op {
        "+" => l + r,
        "-" => l - r,
        "*" => l * r,
        "/" => l / r,
        _ => return Err(format!("operator `{op}` not supported")),
    })
}

fn compare(op: &str, l: f64, r: f64) -> Result<bool, String> {
    Ok(match op {
        ">" => l > r,
        "<" => l < r,
        ">=" => l >= r,
        "<=" => l <= r,
        "==" => l == r,
        "!=" => l != r,
        _ => return Err(format!("operator `{op}` not supported")),
    })
}
