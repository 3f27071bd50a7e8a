//! The running binary: its name, as printed in help, usage, hints and re-run commands, and
//! command lines a user can paste into a shell.
//!
//! `pf` and a researcher's own binary built on [`crate::App`] (`pf-ncsn`, …) run the same code;
//! every message that tells the user what to type names the binary actually run, through
//! [`name`].

use std::sync::OnceLock;

/// The running binary's file name: that of `argv[0]` (what the user typed, a symlink's name
/// included), else that of [`std::env::current_exe`], else `pf`.
pub fn name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let file_name = |p: std::path::PathBuf| {
            p.file_name()
                .and_then(|n| n.to_str())
                .filter(|n| !n.is_empty())
                .map(str::to_string)
        };
        std::env::args_os()
            .next()
            .and_then(|a| file_name(a.into()))
            .or_else(|| std::env::current_exe().ok().and_then(file_name))
            .unwrap_or_else(|| "pf".into())
    })
}

/// `s` single-quoted for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The command line `<name> ARGS`, each argument quoted for a POSIX shell.
pub fn command_line(args: impl IntoIterator<Item = String>) -> String {
    std::iter::once(name().to_string())
        .chain(args)
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_is_the_running_binarys() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(name(), exe.file_name().unwrap().to_str().unwrap());
        assert!(
            command_line(["run".to_string(), "a b.toml".to_string()]).ends_with(" run 'a b.toml'")
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("runs/x"), "runs/x");
        assert_eq!(
            shell_quote("model.vp.net.hidden=[32, 16]"),
            "'model.vp.net.hidden=[32, 16]'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
