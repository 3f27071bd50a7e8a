//! A registry of methods: the name a config gives a method (`method = "ula"` in a
//! `[[sampler]]`, `kind = "dsm"` in a `[model.loss]`) → a parser of the rest of that table into
//! the method's own config, as a trait object `T`, plus what the method declares about itself
//! when it is registered (`M`: the fields an objective's trained net provides; nothing for a
//! sampler).
//!
//! pf-sample's and pf-train's registries are this type with their trait objects; a
//! researcher's crate adds its methods to them (pf-run's `App`) without touching pflow.
//!
//! ```
//! use pf_core::registry::Methods;
//! let mut r: Methods<str> = Methods::default();
//! r.insert("echo", (), |t| Ok(t.to_string().into_boxed_str()));
//! assert_eq!(r.names(), ["echo"]);
//! assert!(r.parse("nope", toml::Table::new()).unwrap_err().contains("expected one of `echo`"));
//! ```

/// Parses one table (less the common keys) into a method's config; serde's message on error.
pub type Parse<T> = fn(toml::Table) -> Result<Box<T>, String>;

struct Entry<T: ?Sized, M> {
    name: &'static str,
    meta: M,
    parse: Parse<T>,
}

/// Method names → parsers into `Box<T>`, with each method's declared `M`, in registration order.
pub struct Methods<T: ?Sized, M = ()> {
    entries: Vec<Entry<T, M>>,
}

impl<T: ?Sized, M> Default for Methods<T, M> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<T: ?Sized, M> Methods<T, M> {
    /// Adds `name` (replacing a method of that name) with its declaration and parser.
    pub fn insert(&mut self, name: &'static str, meta: M, parse: Parse<T>) -> &mut Self {
        self.entries.retain(|e| e.name != name);
        self.entries.push(Entry { name, meta, parse });
        self
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// What method `name` declared, if it is registered.
    pub fn meta(&self, name: &str) -> Option<&M> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.meta)
    }

    /// Every method's name and declaration, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &M)> {
        self.entries.iter().map(|e| (e.name, &e.meta))
    }

    /// Parses table `t` as method `name`. An unknown name reads like serde's message for an
    /// enum (`unknown variant `x`, expected one of `a`, `b``), listing the registered ones.
    pub fn parse(&self, name: &str, t: toml::Table) -> Result<Box<T>, String> {
        match self.entries.iter().find(|e| e.name == name) {
            Some(e) => (e.parse)(t),
            None => Err(format!(
                "unknown variant `{name}`, expected one of {}",
                self.names()
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// `C` read from table `t` with serde (unknown keys and types as serde words them).
pub fn deserialize<C: serde::de::DeserializeOwned>(t: toml::Table) -> Result<C, String> {
    C::deserialize(t).map_err(|e| e.message().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_by_name_and_keeps_order() {
        let mut r: Methods<str, u8> = Methods::default();
        r.insert("a", 1, |_| Ok("a".into()))
            .insert("b", 2, |_| Ok("b".into()))
            .insert("a", 3, |_| Ok("a2".into()));
        assert_eq!(r.names(), ["b", "a"]);
        assert_eq!(r.meta("a"), Some(&3));
        assert_eq!(&*r.parse("a", toml::Table::new()).unwrap(), "a2");
        assert_eq!(
            r.parse("c", toml::Table::new()).unwrap_err(),
            "unknown variant `c`, expected one of `b`, `a`"
        );
    }
}
