//! The embedded font (DejaVu Sans), registered once with plotters' `ab_glyph` backend.
//!
//! With `ab_glyph`, plotters knows only the fonts registered here, so text never depends on
//! fontconfig or the fonts installed on the machine. Licence: `assets/LICENSE-DejaVu.txt`.

use std::path::Path;
use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::error::{Error, Result};

/// DejaVu Sans 2.37, unmodified (Bitstream Vera licence, DejaVu changes public domain).
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family every text in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Families registered (all with the same face), so that plotters' defaults
/// (`sans-serif`, `serif`, `monospace`) all resolve.
const FAMILIES: [&str; 4] = ["sans-serif", "serif", "monospace", "DejaVu Sans"];

static REGISTERED: OnceLock<bool> = OnceLock::new();

/// Registers the embedded font on first use; `path` only names the file in the error.
pub(crate) fn ensure_registered(path: &Path) -> Result<()> {
    let ok = *REGISTERED.get_or_init(|| {
        FAMILIES
            .iter()
            .all(|name| register_font(name, FontStyle::Normal, DEJAVU_SANS).is_ok())
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Font {
            path: path.to_path_buf(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_once_and_succeeds() {
        assert!(ensure_registered(Path::new("a.png")).is_ok());
        assert!(ensure_registered(Path::new("b.png")).is_ok());
    }
}
