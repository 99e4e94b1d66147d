//! Settings: the calendar preferences and the Sieve section they generate (read-only), the
//! user's own Sieve section (compile errors shown at their line), contacts, and how to
//! connect a calendar app with an app password of its own. Changes go through
//! [`imipd_sieve::set_prefs`], [`imipd_sieve::set_own_section`] and the store's app-password
//! calls, as `imipd prefs set`, `imipd sieve set` and `imipd user app-password` do.

use super::{Done, Nav, notice};
use crate::failure::Failure;
use crate::session::Signed;
use crate::{App, PREFIX, blocking};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use imipd_sieve::{
    AddInvitations, BEGIN_MARKER, END_MARKER, Prefs, SettingsError, effective_script, prefs_of,
    set_own_section, set_prefs, user_section,
};
use imipd_store::{
    AppPassword, Error as StoreError, IssuedAppPassword, Store, issue_app_password,
    list_app_passwords, revoke_app_password,
};
use serde::Deserialize;

/// A compile error at a line of the user's own section.
pub struct SieveError {
    pub message: String,
    pub line: Option<usize>,
    pub text: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub struct SettingsPage {
    nav: Nav,
    notice: Option<&'static str>,
    prefs: Prefs,
    prefs_error: Option<String>,
    calendars: Vec<(String, String)>,
    generated: String,
    own: String,
    sieve_error: Option<SieveError>,
    contacts: Vec<String>,
    contact_error: Option<String>,
    caldav_url: String,
    app_passwords: Vec<AppPassword>,
    /// A password just made: shown on this one response, never stored in the clear.
    issued: Option<IssuedAppPassword>,
    app_error: Option<String>,
}

impl SettingsPage {
    fn adds(&self, value: &str) -> bool {
        let current = match self.prefs.add_invitations {
            AddInvitations::Contacts => "contacts",
            AddInvitations::Everyone => "everyone",
            AddInvitations::Never => "never",
        };
        current == value
    }

    fn day(unix: &i64) -> String {
        chrono::DateTime::from_timestamp(*unix, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }

    fn is_target(&self, id: &str) -> bool {
        self.prefs.calendar.as_deref().unwrap_or("") == id
    }
}

pub async fn show(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Result<SettingsPage, Failure> {
    let mut page = load(&app, &signed, &headers).await?;
    page.notice = notice(done.done.as_deref());
    Ok(page)
}

async fn load(app: &App, signed: &Signed, headers: &HeaderMap) -> Result<SettingsPage, Failure> {
    let user = signed.user.clone();
    let (prefs, script, calendars, contacts, app_passwords) =
        blocking(app, move |s| read(s, &user)).await?;
    let own = user_section(&script);
    let generated = script
        .find(BEGIN_MARKER)
        .and_then(|b| {
            let end = script[b..].find(END_MARKER)? + b + END_MARKER.len();
            Some(script[b..end].to_string())
        })
        .unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("this-server");
    Ok(SettingsPage {
        nav: Nav::new(signed, "settings"),
        notice: None,
        prefs,
        prefs_error: None,
        calendars,
        generated,
        own,
        sieve_error: None,
        contacts,
        contact_error: None,
        caldav_url: format!("http://{host}/calendars/{}/", signed.user),
        app_passwords,
        issued: None,
        app_error: None,
    })
}

type Read = (
    Prefs,
    String,
    Vec<(String, String)>,
    Vec<String>,
    Vec<AppPassword>,
);

fn read(s: &dyn Store, user: &str) -> Result<Read, Failure> {
    let settings = |e: SettingsError| Failure::internal(e.to_string());
    let prefs = prefs_of(s, user).map_err(settings)?;
    let script = effective_script(s, user).map_err(settings)?;
    s.default_calendar(user)?;
    let calendars = s
        .calendars(user)?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let apps = list_app_passwords(s, user)?;
    Ok((prefs, script, calendars, s.contacts(user)?, apps))
}

#[derive(Deserialize)]
pub struct PrefsForm {
    csrf: String,
    add_invitations: String,
    #[serde(default)]
    apply_updates: Option<String>,
    #[serde(default)]
    file_into: String,
    #[serde(default)]
    calendar: String,
    #[serde(default)]
    delete_cancelled: Option<String>,
    #[serde(default)]
    time_zone: String,
}

pub async fn save_prefs(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<PrefsForm>,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    let on = |v: &Option<String>| if v.is_some() { "on" } else { "off" };
    let pairs = [
        ("add_invitations", form.add_invitations.as_str()),
        ("apply_updates", on(&form.apply_updates)),
        ("file_into", form.file_into.as_str()),
        ("calendar", form.calendar.as_str()),
        ("delete_cancelled", on(&form.delete_cancelled)),
        ("time_zone", form.time_zone.as_str()),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let user = signed.user.clone();
    let saved = blocking(&app, move |s| {
        let mut prefs = Prefs::default();
        let result = pairs
            .iter()
            .try_for_each(|(k, v)| prefs.set(k, v).map_err(SettingsError::from))
            .and_then(|()| set_prefs(s, &user, &prefs));
        Ok(result)
    })
    .await?;
    match saved {
        Ok(()) => Ok(Redirect::to(&format!("{PREFIX}/settings?done=prefs")).into_response()),
        Err(e) => {
            let mut page = load(&app, &signed, &headers).await?;
            page.prefs_error = Some(format!("Not saved: {e}. Correct the value and save again."));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct SieveForm {
    csrf: String,
    own: String,
}

pub async fn save_sieve(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<SieveForm>,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    // Browsers send CRLF line ends; the script is kept with the LF ones it is shown with.
    let own = form.own.replace("\r\n", "\n");
    let user = signed.user.clone();
    let tried = own.clone();
    let saved = blocking(&app, move |s| Ok(set_own_section(s, &user, &tried))).await?;
    let error = match saved {
        Ok(()) => return Ok(Redirect::to(&format!("{PREFIX}/settings?done=sieve")).into_response()),
        Err(SettingsError::Own(e)) => SieveError {
            text: own
                .lines()
                .nth(e.line.saturating_sub(1))
                .map(str::to_string),
            line: Some(e.line),
            message: format!(
                "Not saved: line {}, column {}: {}. Correct that line and save again.",
                e.line, e.column, e.message
            ),
        },
        Err(e) => SieveError {
            message: format!("Not saved: {e}."),
            line: None,
            text: None,
        },
    };
    let mut page = load(&app, &signed, &headers).await?;
    page.own = own;
    page.sieve_error = Some(error);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    address: String,
    #[serde(default)]
    back: String,
}

pub async fn add_contact(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<ContactForm>,
) -> Result<Response, Failure> {
    change_contact(app, signed, headers, form, true).await
}

pub async fn remove_contact(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<ContactForm>,
) -> Result<Response, Failure> {
    change_contact(app, signed, headers, form, false).await
}

/// "Always add invitations from this sender": the sender goes into the address book.
pub async fn trust_sender(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(mut form): Form<ContactForm>,
) -> Result<Response, Failure> {
    form.back = "invitations".into();
    change_contact(app, signed, headers, form, true).await
}

async fn change_contact(
    app: App,
    signed: Signed,
    headers: HeaderMap,
    form: ContactForm,
    add: bool,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    let address = form.address.trim().to_string();
    if imipd_store::canonical_address(&address).is_none() {
        let mut page = load(&app, &signed, &headers).await?;
        page.contact_error = Some(format!(
            "{address:?} is not an e-mail address. Write it as name@example.org."
        ));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let user = signed.user.clone();
    blocking(&app, move |s| {
        if add {
            s.add_contact(&user, &address)?;
        } else {
            s.remove_contact(&user, &address)?;
        }
        Ok(())
    })
    .await?;
    let to = if form.back == "invitations" {
        format!("{PREFIX}/?done=trusted")
    } else {
        format!("{PREFIX}/settings?done=contact")
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct AppPasswordForm {
    csrf: String,
    label: String,
}

/// A new app password, shown once on the page this answers (not behind a redirect, so the
/// secret is in no URL and no history entry).
pub async fn add_app_password(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AppPasswordForm>,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    let user = signed.user.clone();
    let issued = blocking(&app, move |s| Ok(issue_app_password(s, &user, &form.label))).await?;
    let mut page = load(&app, &signed, &headers).await?;
    match issued {
        Ok(issued) => {
            page.issued = Some(issued);
            Ok(page.into_response())
        }
        Err(e) => {
            page.app_error = Some(app_password_refused(e)?);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

pub async fn revoke_app_password_form(
    State(app): State<App>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AppPasswordForm>,
) -> Result<Response, Failure> {
    signed.check(&form.csrf)?;
    let user = signed.user.clone();
    let revoked = blocking(&app, move |s| {
        Ok(revoke_app_password(s, &user, &form.label))
    })
    .await?;
    match revoked {
        Ok(()) => Ok(Redirect::to(&format!("{PREFIX}/settings?done=app-revoked")).into_response()),
        Err(e) => {
            let mut page = load(&app, &signed, &headers).await?;
            page.app_error = Some(app_password_refused(e)?);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// What the user can fix (a taken or bad label, too many) is said on the page; a store
/// failure is the failure page.
fn app_password_refused(e: StoreError) -> Result<String, Failure> {
    match e {
        StoreError::AppPasswordExists { .. }
        | StoreError::InvalidAppPassword(_)
        | StoreError::NoSuchAppPassword { .. } => Ok(format!("Not done: {e}.")),
        other => Err(other.into()),
    }
}
