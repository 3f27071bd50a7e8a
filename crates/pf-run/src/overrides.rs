//! `--set key=value` overrides, applied to the parsed TOML tree before it is typed, so they go
//! through exactly the same checks as the file.
//!
//! Keys are dotted paths; array elements are addressed by index (`sampler.0.steps=200`) or, for
//! `[[sampler]]` and `[[model]]`, by their name or method (`sampler.ula.eta=[0.01, 0.1]`,
//! `model.vp.train.lr=1e-4`). Values are TOML (`3`, `1e-4`, `true`, `"rk4"`, `[1, 2]`); a bare
//! word that is not valid TOML is taken as a string (`solver=dopri5`).

use anyhow::{bail, Result};
use toml::Value;

/// Applies one `key=value` override to `root`.
pub fn apply(root: &mut Value, spec: &str) -> Result<()> {
    let Some((key, raw)) = spec.split_once('=') else {
        bail!("invalid --set {spec:?}: expected key=value");
    };
    let key = key.trim();
    if key.is_empty() {
        bail!("invalid --set {spec:?}: empty key");
    }
    let value = parse_value(raw.trim());
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = root;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        cur = match cur {
            Value::Table(t) => {
                if last {
                    t.insert(part.to_string(), value);
                    return Ok(());
                }
                t.entry(part.to_string())
                    .or_insert_with(|| Value::Table(Default::default()))
            }
            Value::Array(a) => {
                let idx = match part.parse::<usize>() {
                    Ok(i) => i,
                    Err(_) => a
                        .iter()
                        .position(|e| {
                            let f = |k: &str| e.get(k).and_then(Value::as_str) == Some(part);
                            f("name") || (e.get("name").is_none() && f("method"))
                        })
                        .ok_or_else(|| {
                            let known: Vec<&str> = a
                                .iter()
                                .filter_map(|e| {
                                    e.get("name").or(e.get("method")).and_then(Value::as_str)
                                })
                                .collect();
                            anyhow::anyhow!(
                                "invalid --set {key}: no element named {part:?} in {} (known: {}, or an index 0..{})",
                                parts[..i].join("."),
                                known.join(", "),
                                a.len()
                            )
                        })?,
                };
                let len = a.len();
                let Some(el) = a.get_mut(idx) else {
                    bail!("invalid --set {key}: index {idx} out of range ({len} elements)");
                };
                if last {
                    *el = value;
                    return Ok(());
                }
                el
            }
            _ => bail!(
                "invalid --set {key}: {} is not a table",
                parts[..i].join(".")
            ),
        };
    }
    unreachable!("the loop returns on the last part")
}

fn parse_value(raw: &str) -> Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").expect("parsed key"),
        Err(_) => Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Value {
        toml::from_str(
            r#"
seed = 1
[target]
kind = "funnel"
[[sampler]]
method = "ula"
[[sampler]]
method = "pf-ode"
name = "ode"
model = "vp"
"#,
        )
        .unwrap()
    }

    #[test]
    fn sets_scalars_arrays_and_named_elements() {
        let mut v = root();
        apply(&mut v, "seed=7").unwrap();
        apply(&mut v, "sampler.0.steps=200").unwrap();
        apply(&mut v, "sampler.ula.eta=[0.01, 0.1]").unwrap();
        apply(&mut v, "sampler.ode.solver=dopri5").unwrap();
        apply(&mut v, "output.gif=false").unwrap();
        assert_eq!(v["seed"].as_integer(), Some(7));
        assert_eq!(v["sampler"][0]["steps"].as_integer(), Some(200));
        assert_eq!(v["sampler"][0]["eta"].as_array().unwrap().len(), 2);
        assert_eq!(v["sampler"][1]["solver"].as_str(), Some("dopri5"));
        assert_eq!(v["output"]["gif"].as_bool(), Some(false));
    }

    #[test]
    fn bad_overrides_name_the_key() {
        let mut v = root();
        assert!(apply(&mut v, "seed")
            .unwrap_err()
            .to_string()
            .contains("key=value"));
        assert!(apply(&mut v, "sampler.9.steps=1")
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        assert!(apply(&mut v, "sampler.mala.steps=1")
            .unwrap_err()
            .to_string()
            .contains("\"mala\""));
        assert!(apply(&mut v, "seed.x=1")
            .unwrap_err()
            .to_string()
            .contains("seed is not a table"));
    }
}
