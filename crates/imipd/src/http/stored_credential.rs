//! Which stored hash a sign-in is checked against: the user's password, or the one app
//! password the typed password names by its id (see `imipd_store::app_password_parts`), so
//! every sign-in costs one hash check however many app passwords a user has.

use imipd_store::{HashMemory, Store, app_password_parts, dummy_hash, verify_password_in};

/// The hash a login and password are checked against, and what it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// The user, when the login names one that has this credential.
    pub user: Option<String>,
    pub hash: String,
    /// The id of the app password the hash is of; `None` for the user's own password.
    pub app_password: Option<String>,
    /// The form of the typed password the hash is of.
    secret: String,
}

impl StoredCredential {
    /// What `login` and `password` are checked against: an unknown address, or a user
    /// without this credential, gets the dummy hash, which costs what a real check does.
    pub fn lookup(
        store: &dyn Store,
        login: &str,
        password: &str,
    ) -> imipd_store::Result<StoredCredential> {
        let unknown = || StoredCredential {
            user: None,
            hash: dummy_hash().to_string(),
            app_password: None,
            secret: password.to_string(),
        };
        let Some(user) = store.resolve_address(login)? else {
            return Ok(unknown());
        };
        if let Some((id, secret)) = app_password_parts(password)
            && let Some(hash) = store.app_password_hash(&user, &id)?
        {
            return Ok(StoredCredential {
                user: Some(user),
                hash,
                app_password: Some(id),
                secret,
            });
        }
        Ok(match store.password_hash(&user)? {
            Some(hash) => StoredCredential {
                user: Some(user),
                hash,
                app_password: None,
                secret: password.to_string(),
            },
            None => unknown(),
        })
    }

    /// The user signed in as, when the password matches the hash; always one hash check.
    pub fn verify(&self, memory: &mut HashMemory) -> Option<&str> {
        let matches = verify_password_in(memory, &self.hash, &self.secret);
        self.user.as_deref().filter(|_| matches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imipd_store::issue_app_password;

    /// (login, password, the user it is, the hash checked, app password id)
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, Option<&'a str>);

    #[test]
    fn every_login_is_checked_against_one_hash() {
        let (_dir, store) = crate::http::auth::tests::store();
        let store = &*store;
        let phone = issue_app_password(store, "bob@example.org", "phone").unwrap();
        let (phone_id, _) = app_password_parts(&phone.password).unwrap();
        let phone_hash = store
            .app_password_hash("bob@example.org", &phone_id)
            .unwrap()
            .unwrap();
        let bob = store.password_hash("bob@example.org").unwrap().unwrap();
        let shouted = phone.password.to_uppercase();
        // A password shaped like an app password whose id nobody has.
        let unknown_app = "zzzz-zzzz-zzzz-zzzz-zzzz-zzzz";
        let cases: &[Case] = &[
            (
                "bob@example.org",
                "right",
                Some("bob@example.org"),
                &bob,
                None,
            ),
            ("BOB@example.org", "x", Some("bob@example.org"), &bob, None),
            (
                "bob@example.org",
                &phone.password,
                Some("bob@example.org"),
                &phone_hash,
                Some(&phone_id),
            ),
            (
                "bob@example.org",
                &shouted,
                Some("bob@example.org"),
                &phone_hash,
                Some(&phone_id),
            ),
            (
                "bob@example.org",
                unknown_app,
                Some("bob@example.org"),
                &bob,
                None,
            ),
            (
                "nopass@example.org",
                &phone.password,
                None,
                dummy_hash(),
                None,
            ),
            ("nobody@example.org", "right", None, dummy_hash(), None),
            ("", "", None, dummy_hash(), None),
        ];
        let mut memory = HashMemory::new();
        for &(login, password, user, hash, app) in cases {
            let got = StoredCredential::lookup(store, login, password).unwrap();
            assert_eq!(
                (
                    got.user.as_deref(),
                    got.hash.as_str(),
                    got.app_password.as_deref()
                ),
                (user, hash, app),
                "login {login:?}, password {password:?}"
            );
            let signs_in =
                matches!(password, "right") || password.eq_ignore_ascii_case(&phone.password);
            assert_eq!(
                got.verify(&mut memory),
                user.filter(|_| signs_in && login != "nopass@example.org"),
                "login {login:?}, password {password:?}"
            );
        }
    }
}
