//! The sampler registry: `method = "…"` in a `[[sampler]]` table → a [`Sampler`] type.
//!
//! [`Registry::builtin`] holds every method of this crate. A researcher's crate adds its own
//! with [`Registry::register`] and installs the result once, before any config is read
//! ([`install`]); `[[sampler]]` tables are then parsed through it ([`SamplerSpec`]'s serde). An
//! unknown method is an error that lists the registered ones.
//!
//! ```
//! use pf_sample::registry::Registry;
//! let r = Registry::builtin();
//! assert!(r.methods().contains(&"ula"));
//! ```

use crate::sampler::Sampler;
use pf_core::registry::{deserialize, Methods};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::OnceLock;

/// A sampler that can also be written back out and copied (every serde + Clone [`Sampler`]).
pub trait SamplerObj: Sampler {
    /// Its config table, every default filled in.
    fn to_table(&self) -> toml::Table;
    fn clone_box(&self) -> Box<dyn SamplerObj>;
    /// The number of particles it returns (read from its [`Sampler::budget`]).
    fn particles(&self) -> usize;
}

impl<T: Sampler + Serialize + Clone + 'static> SamplerObj for T {
    fn to_table(&self) -> toml::Table {
        match toml::Value::try_from(self) {
            Ok(toml::Value::Table(t)) => t,
            _ => toml::Table::new(),
        }
    }
    fn clone_box(&self) -> Box<dyn SamplerObj> {
        Box::new(self.clone())
    }
    fn particles(&self) -> usize {
        // the budget is a mutable view: read it from a copy (configs are small)
        *self.clone().budget().particles
    }
}

/// Method names → sampler config types (pf-core's [`Methods`]).
#[derive(Default)]
pub struct Registry(Methods<dyn SamplerObj>);

fn parse_as<T: Sampler + Serialize + DeserializeOwned + Clone + 'static>(
    t: toml::Table,
) -> Result<Box<dyn SamplerObj>, String> {
    deserialize::<T>(t).map(|s| Box::new(s) as Box<dyn SamplerObj>)
}

impl Registry {
    /// Every sampler of pf-sample.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        crate::register_builtin(&mut r);
        r
    }

    /// Adds (or replaces) `method`, configured by `T`.
    pub fn register<T: Sampler + Serialize + DeserializeOwned + Clone + 'static>(
        &mut self,
        method: &'static str,
    ) -> &mut Self {
        self.0.insert(method, (), parse_as::<T>);
        self
    }

    /// The registered method names, in registration order.
    pub fn methods(&self) -> Vec<&'static str> {
        self.0.names()
    }

    /// Parses the keys of one `[[sampler]]` table (less `method`, `name`, `record`) as `method`.
    /// Errors read like serde's (`unknown variant …, expected one of …`, `unknown field …`).
    pub fn parse(&self, method: &str, t: toml::Table) -> Result<Box<dyn SamplerObj>, String> {
        self.0.parse(method, t)
    }
}

static INSTALLED: OnceLock<Registry> = OnceLock::new();

/// Makes `r` the registry configs are read with (once per process, before the first config).
/// Returns it back if one was installed (or used) already.
pub fn install(r: Registry) -> Result<(), Registry> {
    INSTALLED.set(r)
}

/// The installed registry ([`Registry::builtin`] unless [`install`] was called first).
pub fn installed() -> &'static Registry {
    INSTALLED.get_or_init(Registry::builtin)
}

/// One `[[sampler]]` entry: its method, the label of its outputs, its trajectory stride, and the
/// method's own config. Reads and writes through the [`installed`] registry.
pub struct SamplerSpec {
    pub method: String,
    /// Labels its outputs (`samples_<name>.npy`); default: the method.
    pub name: Option<String>,
    /// Keep a trajectory frame every `record` steps (None: no trajectory, no GIF).
    pub record: Option<usize>,
    /// Run the particles at most this many at a time (bounded memory; see [`crate::chunk`]).
    pub chunk: Option<usize>,
    pub sampler: Box<dyn SamplerObj>,
}

impl SamplerSpec {
    /// The label of its outputs: `name`, or the method.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.method.clone())
    }
}

impl Clone for SamplerSpec {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            name: self.name.clone(),
            record: self.record,
            chunk: self.chunk,
            sampler: self.sampler.clone_box(),
        }
    }
}

impl std::fmt::Debug for SamplerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SamplerSpec")
            .field("method", &self.method)
            .field("name", &self.name)
            .field("record", &self.record)
            .field("chunk", &self.chunk)
            .field("sampler", &self.sampler)
            .finish()
    }
}

impl Serialize for SamplerSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = toml::Table::new();
        t.insert("method".into(), self.method.clone().into());
        if let Some(n) = &self.name {
            t.insert("name".into(), n.clone().into());
        }
        t.extend(self.sampler.to_table());
        if let Some(r) = self.record {
            t.insert("record".into(), (r as i64).into());
        }
        if let Some(c) = self.chunk {
            t.insert("chunk".into(), (c as i64).into());
        }
        t.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for SamplerSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut t = toml::Table::deserialize(d)?;
        let method = match t.remove("method") {
            Some(toml::Value::String(m)) => m,
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid type: {}, expected a method name (a string) for key `method`",
                    v.type_str()
                )))
            }
            None => return Err(D::Error::custom("missing field `method`")),
        };
        let name = match t.remove("name") {
            Some(toml::Value::String(n)) => Some(n),
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid type: {}, expected a string for key `name`",
                    v.type_str()
                )))
            }
            None => None,
        };
        let record = match t.remove("record") {
            Some(toml::Value::Integer(r)) if r >= 0 => Some(r as usize),
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid value: {v} for key `record`, expected a stride ≥ 0"
                )))
            }
            None => None,
        };
        let chunk = match t.remove("chunk") {
            Some(toml::Value::Integer(c)) if c >= 0 => Some(c as usize),
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid value: {v} for key `chunk`, expected a particle count ≥ 0"
                )))
            }
            None => None,
        };
        let sampler = installed().parse(&method, t).map_err(|e| {
            // the common keys are part of every sampler's table
            D::Error::custom(pf_core::keys::with_common_keys(
                e,
                "`method`, `name`, `record`, `chunk`",
            ))
        })?;
        Ok(Self {
            method,
            name,
            record,
            chunk,
            sampler,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> Result<SamplerSpec, String> {
        toml::from_str::<SamplerSpec>(text).map_err(|e| e.message().to_string())
    }

    #[test]
    fn unknown_method_lists_the_registered_ones() {
        let e = spec("method = \"ulaa\"").unwrap_err();
        assert!(
            e.starts_with("unknown variant `ulaa`, expected one of `ula`, `mala`"),
            "{e}"
        );
        for m in Registry::builtin().methods() {
            assert!(e.contains(&format!("`{m}`")), "{m} missing from {e}");
        }
    }

    #[test]
    fn unknown_key_names_it_and_the_common_keys() {
        let e = spec("method = \"ula\"\nstep_size = 0.1").unwrap_err();
        assert!(e.contains("unknown field `step_size`"), "{e}");
        assert!(
            e.contains("`method`, `name`, `record`, `chunk`, `particles`"),
            "{e}"
        );
        assert!(e.contains("`eta`"), "{e}");
    }

    /// Samplers run from a model's path prior under that model's field name it as the path
    /// their particles follow; Langevin, DDPM, MonoFlow, the conditional sampler and a flow
    /// started elsewhere name none.
    #[test]
    fn models_name_the_model_whose_path_is_followed() {
        let pm = |t: &str| spec(t).unwrap().sampler.models().path.map(str::to_string);
        for m in ["reverse-sde", "pc", "pf-ode", "flow"] {
            let t = format!("method = \"{m}\"\nmodel = \"m\"");
            assert_eq!(pm(&t).as_deref(), Some("m"), "{m}");
        }
        let t = "method = \"path-sde\"\nvelocity = \"v\"\nscore = \"s\"";
        assert_eq!(pm(t).as_deref(), Some("v"));
        for t in [
            "method = \"ula\"",
            "method = \"mala\"",
            "method = \"monoflow\"",
            "method = \"ddpm\"\nmodel = \"m\"",
            "method = \"conditional\"\nz = [0.0]",
            "method = \"flow\"\nmodel = \"m\"\ninit = { kind = \"normal\" }",
        ] {
            assert_eq!(pm(t), None, "{t}");
        }
    }

    /// The shared budget gives `--quick`, the particle count and chunking: steps capped where
    /// the budget has them, DDPM's chain left to its model, MonoFlow's interacting particles
    /// never chunked.
    #[test]
    fn budgets_give_quick_and_chunking() {
        use crate::Quick;
        let q = Quick::default();
        let mut ula = spec("method = \"ula\"\nparticles = 5000\nsteps = 700")
            .unwrap()
            .sampler;
        assert_eq!(ula.quick(&q), Some(q.steps));
        assert_eq!(ula.particles(), q.particles);
        assert!(ula.set_particles(7));
        assert_eq!(ula.particles(), 7);
        let mut few = spec("method = \"mala\"\nparticles = 10\nsteps = 20")
            .unwrap()
            .sampler;
        assert_eq!((few.quick(&q), few.particles()), (Some(20), 10));
        let mut ddpm = spec("method = \"ddpm\"\nmodel = \"m\"\nparticles = 5000")
            .unwrap()
            .sampler;
        assert_eq!((ddpm.quick(&q), ddpm.particles()), (None, q.particles));
        let mut mf = spec("method = \"monoflow\"").unwrap().sampler;
        assert!(!mf.set_particles(7));
        assert_ne!(mf.particles(), 7);
    }

    /// `key = value` lines for every key method `m` requires: a model name, or a point for `z`.
    fn required_keys(m: &str) -> String {
        let mut keys = String::new();
        for _ in 0..8 {
            match spec(&format!("method = \"{m}\"\n{keys}")) {
                Err(e) if e.starts_with("missing field `") => {
                    let k = e.split('`').nth(1).unwrap().to_string();
                    let v = if k == "z" { "[0.5, -1.0]" } else { "\"m\"" };
                    keys += &format!("{k} = {v}\n");
                }
                _ => break,
            }
        }
        keys
    }

    /// Every built-in method reads its minimal table, fills its defaults, and writes back a table
    /// that reads to the same thing (the resolved `config.toml` round trip).
    #[test]
    fn every_builtin_round_trips_with_its_defaults() {
        // each method's required keys, found from serde's "missing field" messages, so a new
        // sampler is covered without a row here
        let minimal: Vec<(&str, String)> = Registry::builtin()
            .methods()
            .into_iter()
            .map(|m| (m, required_keys(m)))
            .collect();
        for (m, keys) in minimal {
            let text = format!("method = \"{m}\"\nname = \"x\"\nrecord = 5\n{keys}");
            let s = spec(&text).unwrap_or_else(|e| panic!("{m}: {e}"));
            assert_eq!(
                (s.method.as_str(), s.label(), s.record),
                (m, "x".into(), Some(5))
            );
            let out = toml::to_string(&s).unwrap();
            assert!(
                out.starts_with(&format!("method = \"{m}\"\nname = \"x\"\n")),
                "{out}"
            );
            let again = spec(&out).unwrap();
            assert_eq!(toml::to_string(&again).unwrap(), out, "{m}");
            assert_eq!(s.sampler.particles(), again.sampler.particles());
        }
        // defaults are filled in: ULA's step count and step size
        let out = toml::to_string(&spec("method = \"ula\"").unwrap()).unwrap();
        assert!(
            out.contains("steps = 1500") && out.contains("eta = [0.001]"),
            "{out}"
        );
    }
}
