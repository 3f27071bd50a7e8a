//! serde's messages about config keys, for tables read in two steps (common keys taken first,
//! the rest by a registered type).

/// serde's "unknown field `x`, expected …" with the keys every such table has (`common`, e.g.
/// "`method`, `name`") listed first; other messages unchanged.
pub fn with_common_keys(e: String, common: &str) -> String {
    if !e.starts_with("unknown field") {
        return e;
    }
    if e.contains(", expected one of ") {
        e.replacen(
            ", expected one of ",
            &format!(", expected one of {common}, "),
            1,
        )
    } else if e.contains(", expected `") {
        e.replacen(", expected `", &format!(", expected one of {common}, `"), 1)
    } else {
        e.replacen(
            ", there are no fields",
            &format!(", expected one of {common}"),
            1,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::with_common_keys;

    #[test]
    fn common_keys_go_first() {
        let k = "`kind`";
        assert_eq!(
            with_common_keys("unknown field `a`, expected one of `b`, `c`".into(), k),
            "unknown field `a`, expected one of `kind`, `b`, `c`"
        );
        assert_eq!(
            with_common_keys("unknown field `a`, expected `b`".into(), k),
            "unknown field `a`, expected one of `kind`, `b`"
        );
        assert_eq!(
            with_common_keys("unknown field `a`, there are no fields".into(), k),
            "unknown field `a`, expected one of `kind`"
        );
        assert_eq!(
            with_common_keys("missing field `b`".into(), k),
            "missing field `b`"
        );
    }
}
