//! Compiled Sieve scripts by user, so a script is compiled once per version, not once
//! per delivery.

use imipd_sieve::Script;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tracing::warn;

/// A script's source and what it compiled to (`None`: it does not compile).
type Compiled = (String, Option<Arc<Script>>);

/// Compiled scripts by user, recompiled when the stored source changes.
#[derive(Default)]
pub struct ScriptCache {
    compiled: Mutex<HashMap<String, Compiled>>,
}

impl ScriptCache {
    /// The user's script; `None` when it does not compile (logged once per version).
    pub(crate) fn get(&self, user: &str, source: &str) -> Option<Arc<Script>> {
        let mut map = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((cached, script)) = map.get(user)
            && cached == source
        {
            return script.clone();
        }
        let script = match imipd_sieve::compile(source) {
            Ok(s) => Some(Arc::new(s)),
            Err(e) => {
                warn!(
                    user,
                    "Sieve script does not compile ({e}); delivering to INBOX until it is fixed \
                     (check it with `imipd sieve check {user}`)"
                );
                None
            }
        };
        map.insert(user.to_string(), (source.to_string(), script.clone()));
        script
    }
}
