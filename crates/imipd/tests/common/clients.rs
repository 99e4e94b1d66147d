//! The real CalDAV and CardDAV clients (python-caldav 3.6.0, vdirsyncer 0.21) in the venv
//! scripts/test.sh makes: `$IMIPD_TEST_VENV`, else `~/.cache/imipd/test-venv`. A test
//! without it says why and skips; plain `cargo test` installs nothing.

use std::path::PathBuf;

/// The venv, when a finished install is there (scripts/test.sh leaves `.ok` at the end).
pub fn venv() -> Option<PathBuf> {
    let dir = match std::env::var_os("IMIPD_TEST_VENV") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
            .join("imipd/test-venv"),
    };
    if dir.join(".ok").is_file() && dir.join("bin/python").is_file() {
        return Some(dir);
    }
    eprintln!(
        "skipping: no python venv with caldav 3.6.0 and vdirsyncer 0.21 at {} \
         (scripts/test.sh makes it; IMIPD_TEST_VENV names another)",
        dir.display()
    );
    None
}
