//! The points of a sweep: `--grid` axes (Cartesian product, first axis outermost), one `--zip`
//! axis (its keys advance together), then `--seeds` innermost; and their run names.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// One axis of the product: one key (`--grid`) or several keys whose values advance together
/// (`--zip`). `values[i][k]` is key `k`'s value at step `i`, as the user wrote it (TOML text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub keys: Vec<String>,
    pub values: Vec<Vec<String>>,
}

/// One point: its run name, its `key=value` overrides (axis order) and its seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub name: String,
    pub set: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// Splits `KEY=V1,V2,…` into the key and its values. Commas inside `[…]`, `{…}` or quotes
/// belong to the value (`eta=[0.01, 0.1],[0.02, 0.2]` has two values).
pub fn parse_spec(flag: &str, spec: &str) -> Result<(String, Vec<String>)> {
    let Some((key, raw)) = spec.split_once('=') else {
        bail!("invalid {flag} {spec:?}: expected KEY=V1,V2,…");
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        bail!("invalid {flag} {spec:?}: bad key {key:?}");
    }
    let values = split_top(raw)?;
    if values.iter().all(|v| v.is_empty()) {
        bail!("empty grid: {flag} {key}= has no values (give {flag} {key}=V1,V2,…)");
    }
    if let Some(i) = values.iter().position(String::is_empty) {
        bail!(
            "invalid {flag} {key}: value {} of {} is empty",
            i + 1,
            values.len()
        );
    }
    Ok((key.to_string(), values))
}

/// Splits at commas outside brackets, braces and quotes; trims each piece.
fn split_top(raw: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in raw.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if quote.is_some() || depth != 0 {
        bail!("unbalanced brackets or quotes in {raw:?}");
    }
    out.push(cur.trim().to_string());
    Ok(out)
}

/// `--seeds`: `A..B` (inclusive: `0..2` is 0, 1, 2), a list `0,3,7`, or one seed.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>> {
    let bad = || {
        anyhow::anyhow!(
            "invalid --seeds {s:?}: expected A..B (inclusive), a list 0,3,7 or one seed"
        )
    };
    let seeds: Vec<u64> = if let Some((a, b)) = s.split_once("..") {
        let (a, b): (u64, u64) = (
            a.trim().parse().map_err(|_| bad())?,
            b.trim().parse().map_err(|_| bad())?,
        );
        if a > b {
            bail!("invalid --seeds {s:?}: empty range ({a} > {b})");
        }
        (a..=b).collect()
    } else {
        s.split(',')
            .map(|p| p.trim().parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?
    };
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != seeds.len() {
        bail!("invalid --seeds {s:?}: a seed appears twice");
    }
    Ok(seeds)
}

/// The axes from `--grid` specs and the `--zip` specs (one axis, all the same length).
pub fn axes(grid: &[String], zip: &[String]) -> Result<Vec<Axis>> {
    let mut axes = Vec::new();
    for g in grid {
        let (k, vs) = parse_spec("--grid", g)?;
        axes.push(Axis {
            keys: vec![k],
            values: vs.into_iter().map(|v| vec![v]).collect(),
        });
    }
    if !zip.is_empty() {
        let specs: Vec<(String, Vec<String>)> = zip
            .iter()
            .map(|z| parse_spec("--zip", z))
            .collect::<Result<_>>()?;
        let n = specs[0].1.len();
        if let Some((k, vs)) = specs.iter().find(|(_, vs)| vs.len() != n) {
            bail!(
                "invalid --zip {k}: {} values, but --zip {} has {n} (zipped keys advance together)",
                vs.len(),
                specs[0].0
            );
        }
        axes.push(Axis {
            keys: specs.iter().map(|(k, _)| k.clone()).collect(),
            values: (0..n)
                .map(|i| specs.iter().map(|(_, vs)| vs[i].clone()).collect())
                .collect(),
        });
    }
    let mut keys: Vec<&str> = axes
        .iter()
        .flat_map(|a| &a.keys)
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
        bail!("invalid grid: key {} is swept twice", w[0]);
    }
    Ok(axes)
}

/// Short names for the keys in run names: the last dotted part, or as many trailing parts as
/// make it unique (`sampler.ula.eta` → `eta`; with `sampler.mala.eta` too → `ula.eta`,
/// `mala.eta`).
pub fn short_names(keys: &[String]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = keys.iter().map(|k| k.split('.').collect()).collect();
    let tail = |p: &[&str], n: usize| p[p.len().saturating_sub(n)..].join(".");
    parts
        .iter()
        .map(|p| {
            (1..=p.len())
                .map(|n| tail(p, n))
                .find(|t| {
                    parts
                        .iter()
                        .filter(|q| tail(q, t.split('.').count()) == *t)
                        .count()
                        == 1
                })
                .unwrap_or_else(|| p.join("."))
        })
        .collect()
}

/// A value as it appears in a file name: letters, digits and `.+-_` kept; brackets, braces,
/// quotes and spaces dropped; anything else (a comma inside an array, a slash) becomes `_`.
pub fn sanitize(v: &str) -> String {
    v.chars()
        .filter(|c| !matches!(c, '[' | ']' | '{' | '}' | '"' | '\'') && !c.is_whitespace())
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every point, axes in order (first outermost), seeds innermost. Names are
/// `short=value,…,seed=S` (the seed part only with `--seeds`); two points with the same name
/// are an error.
pub fn points(axes: &[Axis], seeds: Option<&[u64]>) -> Result<Vec<Point>> {
    let keys: Vec<String> = axes.iter().flat_map(|a| a.keys.clone()).collect();
    let short = short_names(&keys);
    let mut combos: Vec<Vec<(usize, usize)>> = vec![vec![]]; // (axis, step)
    for (ai, a) in axes.iter().enumerate() {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                (0..a.values.len()).map(move |i| {
                    let mut c = c.clone();
                    c.push((ai, i));
                    c
                })
            })
            .collect();
    }
    let seed_list: Vec<Option<u64>> = match seeds {
        Some(s) => s.iter().map(|s| Some(*s)).collect(),
        None => vec![None],
    };
    let mut out = Vec::new();
    for c in &combos {
        let mut set = Vec::new();
        let mut parts = Vec::new();
        let mut k = 0;
        for &(ai, i) in c {
            for (key, v) in axes[ai].keys.iter().zip(&axes[ai].values[i]) {
                set.push(format!("{key}={v}"));
                parts.push(format!("{}={}", short[k], sanitize(v)));
                k += 1;
            }
        }
        for s in &seed_list {
            let mut parts = parts.clone();
            if let Some(s) = s {
                parts.push(format!("seed={s}"));
            }
            out.push(Point {
                name: parts.join(","),
                set: set.clone(),
                seed: *s,
            });
        }
    }
    let mut names: Vec<&str> = out.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("invalid grid: two points get the same run name {:?} (values that differ only in punctuation)", w[0]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_split_at_top_level_commas() {
        let (k, v) = parse_spec("--grid", "sampler.ula.eta=[0.01, 0.1], [0.02,0.2] ,1e-3").unwrap();
        assert_eq!(k, "sampler.ula.eta");
        assert_eq!(v, ["[0.01, 0.1]", "[0.02,0.2]", "1e-3"]);
        let (_, v) = parse_spec("--grid", "x={a=1, b=\"p,q\"},'r,s'").unwrap();
        assert_eq!(v, ["{a=1, b=\"p,q\"}", "'r,s'"]);
        assert!(parse_spec("--grid", "eta=")
            .unwrap_err()
            .to_string()
            .starts_with("empty grid"));
        assert!(parse_spec("--grid", "eta=1,,2").is_err());
        assert!(parse_spec("--grid", "eta").is_err());
        assert!(parse_spec("--grid", "eta=[1,2").is_err());
    }

    #[test]
    fn seeds_are_inclusive_ranges_or_lists() {
        assert_eq!(parse_seeds("0..2").unwrap(), [0, 1, 2]);
        assert_eq!(parse_seeds("3,1,7").unwrap(), [3, 1, 7]);
        assert_eq!(parse_seeds("5").unwrap(), [5]);
        assert!(parse_seeds("2..0").is_err());
        assert!(parse_seeds("1,1").is_err());
        assert!(parse_seeds("a..b").is_err());
    }

    #[test]
    fn product_order_and_names() {
        let ax = axes(
            &[
                "sampler.ula.eta=1e-3,[0.01, 0.1]".into(),
                "sampler.ula.steps=10,20".into(),
            ],
            &[],
        )
        .unwrap();
        let p = points(&ax, Some(&[0, 1])).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "eta=1e-3,steps=10,seed=0",
                "eta=1e-3,steps=10,seed=1",
                "eta=1e-3,steps=20,seed=0",
                "eta=1e-3,steps=20,seed=1",
                "eta=0.01_0.1,steps=10,seed=0",
                "eta=0.01_0.1,steps=10,seed=1",
                "eta=0.01_0.1,steps=20,seed=0",
                "eta=0.01_0.1,steps=20,seed=1",
            ]
        );
        assert_eq!(
            p[5].set,
            ["sampler.ula.eta=[0.01, 0.1]", "sampler.ula.steps=10"]
        );
        assert_eq!(p[5].seed, Some(1));
    }

    #[test]
    fn zip_advances_together_and_short_names_stay_unique() {
        let ax = axes(
            &[],
            &[
                "sampler.ula.eta=0.1,0.2".into(),
                "sampler.mala.eta=1,2".into(),
            ],
        )
        .unwrap();
        let p = points(&ax, None).unwrap();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ula.eta=0.1,mala.eta=1", "ula.eta=0.2,mala.eta=2"]);
        assert!(axes(&[], &["a=1,2".into(), "b=1".into()]).is_err());
        assert!(axes(&["a=1".into(), "a=2".into()], &[]).is_err());
        assert!(points(&axes(&["a=\"x y\",xy".into()], &[]).unwrap(), None).is_err());
    }
}
