//! `imipd auth check`: imipd's users and passwords for Dovecot, through its checkpassword
//! interface (Dovecot 2.3, `passdb { driver = checkpassword }`), so IMAP logins check the
//! same Argon2 hashes as imipd and land in the mailbox imipd delivers to.
//!
//! The protocol: Dovecot writes `user NUL password NUL` (and more) to file descriptor 3 and
//! passes the path of its `checkpassword-reply` as the first argument. On success the
//! checker sets `USER` (here: the user's primary address, so an alias or another case logs
//! in to the same Maildir through `%u`) and runs that program; otherwise it exits 1 (wrong
//! user or password), 3 (no such user, for a lookup without password) or 111 (temporary
//! failure). With `AUTHORIZED=1` Dovecot asks only whether the user exists (a userdb or
//! proxy lookup) and expects `AUTHORIZED=2` back.

use crate::cli::AuthCmd;
use crate::config::Config;
use anyhow::Result;
use imipd_store::Store;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// Dovecot's exit codes for checkpassword programs.
const FAILED: u8 = 1;
const MISUSED: u8 = 2;
const NO_SUCH_USER: u8 = 3;
const TEMPORARY: u8 = 111;

/// Dovecot sends a few hundred bytes; anything far larger is not Dovecot.
const MAX_INPUT: u64 = 64 * 1024;

pub fn run(config: &Config, cmd: AuthCmd) -> Result<ExitCode> {
    match cmd {
        AuthCmd::Check { reply } => Ok(check(config, &reply)),
    }
}

fn check(config: &Config, reply: &[OsString]) -> ExitCode {
    let Some(input) = read_fd3() else {
        eprintln!(
            "imipd auth check: nothing to read on file descriptor 3; it speaks Dovecot's \
             checkpassword protocol (see contrib/dovecot/)"
        );
        return ExitCode::from(MISUSED);
    };
    let mut fields = input.split(|&b| b == 0);
    let (Some(login), Some(password)) = (fields.next(), fields.next()) else {
        eprintln!("imipd auth check: expected \"user\\0password\\0\" on file descriptor 3");
        return ExitCode::from(MISUSED);
    };
    let login = String::from_utf8_lossy(login);
    let password = String::from_utf8_lossy(password);
    let env = |name: &str| std::env::var(name).ok();
    let lookup_only = env("AUTHORIZED").as_deref() == Some("1");
    if env("CREDENTIALS_LOOKUP").as_deref() == Some("1") {
        eprintln!(
            "imipd auth check: {login}: imipd keeps Argon2 hashes only, so Dovecot cannot \
             use challenge-response mechanisms: set auth_mechanisms = plain login"
        );
        return ExitCode::from(FAILED);
    }
    let store = match super::open_existing(config) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("imipd auth check: {e:#}");
            return ExitCode::from(TEMPORARY);
        }
    };
    let user = match verify(&store, &login, &password, lookup_only) {
        Ok(Some(user)) => user,
        Ok(None) if lookup_only => return ExitCode::from(NO_SUCH_USER),
        Ok(None) => return ExitCode::from(FAILED),
        Err(e) => {
            eprintln!("imipd auth check: {login}: {e}");
            return ExitCode::from(TEMPORARY);
        }
    };
    let Some((program, args)) = reply.split_first() else {
        eprintln!("imipd auth check: {login}: ok, user {user}");
        return ExitCode::SUCCESS;
    };
    let mut command = std::process::Command::new(program);
    command.args(args).env("USER", &user);
    if lookup_only {
        command.env("AUTHORIZED", "2");
    }
    let e = command.exec();
    eprintln!(
        "imipd auth check: cannot run {}: {e}",
        program.to_string_lossy()
    );
    ExitCode::from(TEMPORARY)
}

/// The canonical user `login` names, if its password is `password` (or, for a lookup,
/// if it exists at all).
fn verify(
    store: &dyn Store,
    login: &str,
    password: &str,
    lookup_only: bool,
) -> imipd_store::Result<Option<String>> {
    let user = store.resolve_address(login)?;
    if lookup_only {
        return Ok(user);
    }
    let hash = match &user {
        Some(user) => store.password_hash(user)?,
        None => None,
    };
    // An unknown user, or one without a password, costs what a wrong password costs: the
    // answer's timing does not tell which addresses exist.
    let matches = imipd_store::verify_password_in(
        &mut imipd_store::HashMemory::new(),
        hash.as_deref().unwrap_or(imipd_store::dummy_hash()),
        password,
    ) && hash.is_some();
    Ok(user.filter(|_| matches))
}

/// Everything on file descriptor 3, if it is open.
fn read_fd3() -> Option<Vec<u8>> {
    // SAFETY: fcntl(F_GETFD) only reads the descriptor's flags.
    if unsafe { libc::fcntl(3, libc::F_GETFD) } == -1 {
        return None;
    }
    // SAFETY: descriptor 3 is open (checked above) and nothing else in this process owns
    // it: the checkpassword caller hands it over for this read.
    let file = unsafe { std::fs::File::from_raw_fd(3) };
    let mut input = Vec::new();
    file.take(MAX_INPUT).read_to_end(&mut input).ok()?;
    Some(input)
}
