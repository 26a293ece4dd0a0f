//! One struct per console template; the shared frame (texts, assets, operator, form token)
//! is [`Chrome`].

use askama::Template;

use super::texts::{texts, AdminTexts};
use crate::admin::accounts::AccountView;
use crate::admin::api_keys::ApiKeyView;
use crate::admin::audit::Report;
use crate::admin::persons::LiveSession;
use crate::admin::persons::PersonView;
use crate::admin::sessions::ConsoleSession;
use crate::provider::clients::FieldError;
use crate::web::assets::assets;
use crate::web::i18n::Lang;

/// What every console page shows around its content.
pub struct Chrome {
    pub t: &'static AdminTexts,
    /// The resident pages' stylesheet (colours, type, buttons), then the console's own.
    pub base_style: &'static str,
    pub style: &'static str,
    pub script: &'static str,
    pub user: Option<String>,
    pub role: String,
    pub csrf: String,
    pub lang_url: String,
    pub can_write: bool,
}

impl Chrome {
    pub fn anonymous(lang: Lang, here: &str) -> Chrome {
        let a = assets();
        Chrome {
            t: texts(lang),
            base_style: a.style.as_str(),
            style: a.url("admin.css").unwrap_or_default(),
            script: a.url("admin.js").unwrap_or_default(),
            user: None,
            role: String::new(),
            csrf: String::new(),
            lang_url: format!(
                "/admin/lang?to={}&back={}",
                lang.other().code(),
                percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC)
            ),
            can_write: false,
        }
    }

    pub fn of(s: &ConsoleSession, lang: Lang, here: &str) -> Chrome {
        let p = s.principal();
        Chrome {
            user: Some(p.name.clone()),
            role: p.role.as_str().to_owned(),
            csrf: s.csrf.clone(),
            can_write: p.role.can_write(),
            ..Chrome::anonymous(lang, here)
        }
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
pub struct MessagePage {
    pub c: Chrome,
    pub title: String,
    pub message: String,
    /// A secret shown once, with a copy button.
    pub secret: Option<String>,
    pub back: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub c: Chrome,
    pub login_csrf: String,
    pub username: String,
    pub error: Option<String>,
}

pub struct ClientLine {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub auth_method: String,
    pub redirect_uris: String,
}

#[derive(Template)]
#[template(path = "admin/clients.html")]
pub struct ClientsPage {
    pub c: Chrome,
    pub q: String,
    pub clients: Vec<ClientLine>,
}

/// The client form's values as text, as typed (kept on errors).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ClientForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub redirect_uris: String,
    #[serde(default)]
    pub post_logout_redirect_uris: String,
    #[serde(default)]
    pub backchannel_logout_uri: String,
    #[serde(default)]
    pub sector_identifier_uri: String,
    #[serde(default)]
    pub auth_method: String,
    #[serde(default)]
    pub jwks: String,
    #[serde(default)]
    pub jwks_uri: String,
    #[serde(default)]
    pub scopes: String,
    #[serde(default)]
    pub allow_verified_claims: Option<String>,
    #[serde(default)]
    pub dpop_bound_access_tokens: Option<String>,
    #[serde(default)]
    pub logo_uri: String,
    #[serde(default)]
    pub tos_uri: String,
    #[serde(default)]
    pub policy_uri: String,
    #[serde(default)]
    pub security_event_uri: String,
    #[serde(default)]
    pub id_token_alg: String,
    #[serde(default)]
    pub profile: String,
    #[serde(default)]
    pub require_pushed_authorization_requests: Option<String>,
    #[serde(default)]
    pub allow_shared_signals: Option<String>,
    #[serde(default)]
    pub csrf: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/client_form.html")]
pub struct ClientFormPage {
    pub c: Chrome,
    pub title: String,
    pub action: String,
    pub f: ClientForm,
    pub errors: Vec<FieldError>,
    pub methods: [&'static str; 3],
    pub submit: &'static str,
}

impl ClientFormPage {
    /// The text fields in form order: name, label, value, multi-line.
    pub fn fields(&self) -> Vec<(&'static str, &'static str, String, bool)> {
        let (t, f) = (self.c.t, &self.f);
        vec![
            ("name", t.name, f.name.clone(), false),
            (
                "redirect_uris",
                t.redirect_uris,
                f.redirect_uris.clone(),
                true,
            ),
            (
                "post_logout_redirect_uris",
                t.post_logout_uris,
                f.post_logout_redirect_uris.clone(),
                true,
            ),
            (
                "backchannel_logout_uri",
                t.backchannel_uri,
                f.backchannel_logout_uri.clone(),
                false,
            ),
            (
                "sector_identifier_uri",
                t.sector_uri,
                f.sector_identifier_uri.clone(),
                false,
            ),
            ("scopes", t.scopes, f.scopes.clone(), false),
            ("jwks_uri", t.jwks_uri, f.jwks_uri.clone(), false),
            ("jwks", t.jwks, f.jwks.clone(), true),
            ("logo_uri", t.logo_uri, f.logo_uri.clone(), false),
            ("tos_uri", t.tos_uri, f.tos_uri.clone(), false),
            ("policy_uri", t.policy_uri, f.policy_uri.clone(), false),
            (
                "security_event_uri",
                t.security_event_uri,
                f.security_event_uri.clone(),
                false,
            ),
        ]
    }

    /// The choices after the authentication method: name, label, options, chosen.
    pub fn selects(&self) -> Vec<(&'static str, &'static str, Vec<&'static str>, String)> {
        let (t, f) = (self.c.t, &self.f);
        vec![
            (
                "id_token_alg",
                t.id_token_alg,
                crate::domain::IdTokenAlg::ALL.map(|a| a.as_str()).to_vec(),
                f.id_token_alg.clone(),
            ),
            (
                "profile",
                t.profile,
                vec![
                    crate::domain::Profile::Oidc.as_str(),
                    crate::domain::Profile::Fapi2.as_str(),
                ],
                f.profile.clone(),
            ),
        ]
    }

    pub fn errors_for(&self, field: &str) -> Vec<String> {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.clone())
            .collect()
    }
}

#[derive(Template)]
#[template(path = "admin/client.html")]
pub struct ClientPage {
    pub c: Chrome,
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub auth_method: String,
    pub uses_secret: bool,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub sector: String,
    pub issuer: String,
    pub discovery_url: String,
    pub edit: ClientFormPage,
}

#[derive(Template)]
#[template(path = "admin/delete.html")]
pub struct DeletePage {
    pub c: Chrome,
    pub id: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "admin/sessions.html")]
pub struct SessionsPage {
    pub c: Chrome,
    pub client: String,
    pub clients: Vec<(String, String)>,
    pub sessions: Vec<LiveSession>,
}

#[derive(Template)]
#[template(path = "admin/persons.html")]
pub struct PersonsPage {
    pub c: Chrome,
    pub client: String,
    pub sub: String,
    pub serial: String,
    pub clients: Vec<(String, String)>,
    pub searched: bool,
    pub results: Vec<PersonView>,
    pub message: Option<String>,
}

pub struct KeyLine {
    pub kid: String,
    pub alg: String,
    pub state: &'static str,
    pub activate_at: String,
    pub retired_at: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
pub struct KeysPage {
    pub c: Chrome,
    pub keys: Vec<KeyLine>,
    pub lead: i64,
}

pub struct AuditLine {
    pub seq: i64,
    pub time: String,
    pub kind: String,
    pub actor: String,
    pub client: String,
    pub person: String,
    pub data: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub c: Chrome,
    pub from: String,
    pub to: String,
    pub actor: String,
    pub kind: String,
    pub client: String,
    pub person: String,
    pub kinds: Vec<&'static str>,
    pub entries: Vec<AuditLine>,
    pub query: String,
    pub older: Option<String>,
    pub report: Option<Report>,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
pub struct ApiKeysPage {
    pub c: Chrome,
    pub keys: Vec<ApiKeyView>,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
pub struct AccountPage {
    pub c: Chrome,
    pub account: AccountView,
    pub qr: Option<String>,
    pub key: Option<String>,
    pub error: Option<String>,
}

/// RFC 3339 UTC, for tables.
pub fn time(t: i64) -> String {
    crate::clock::rfc3339(t)
}

impl SessionsPage {
    pub fn time(&self, t: &i64) -> String {
        time(*t)
    }
}

impl PersonsPage {
    pub fn time(&self, t: &i64) -> String {
        time(*t)
    }
}

#[derive(Template)]
#[template(path = "admin/revocation.html")]
pub struct RevocationPage {
    pub c: Chrome,
    pub status: crate::admin::revocation::Status,
    pub message: Option<String>,
    pub failed: bool,
}

impl RevocationPage {
    pub fn time(&self, t: &i64) -> String {
        time(*t)
    }
}
