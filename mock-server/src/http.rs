//! The mock's HTTP services on loopback: a test token issuer standing in for Pro Santé Connect
//! (`/psc/token`, `/psc/introspect`, RFC 7662), the MSSanté whitelist in its published XML shape
//! and a Mozilla autoconfig document.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

use crate::Endpoints;
use crate::accounts::MailboxKind;
use crate::context::MockContext;

/// Token lifetime when the request gives none (seconds).
pub const DEFAULT_LIFETIME: i64 = crate::grant_book::DEFAULT_LIFETIME;
/// Largest |lifetime| accepted: a year.
const MAX_LIFETIME: i64 = 366 * 24 * 3600;
/// Namespace of the published whitelist (`//Domaine/Nom`).
pub const WHITELIST_NS: &str = "https://listeblanche.mssante.fr/schema";

#[derive(Clone)]
struct HttpState {
    ctx: MockContext,
    endpoints: Endpoints,
}

pub fn router(ctx: MockContext, endpoints: Endpoints) -> Router {
    Router::new()
        .route("/psc/token", post(token))
        .route("/psc/introspect", post(introspect))
        .route("/listeblanchemssante.xml", get(whitelist))
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(autoconfig))
        .route(CRL_PATH, get(crl))
        .with_state(HttpState { ctx, endpoints })
}

/// Serves until the task is aborted.
pub async fn serve(listener: TcpListener, ctx: MockContext, endpoints: Endpoints) {
    let _ = axum::serve(listener, router(ctx, endpoints)).await;
}

type FormFields = Result<Form<HashMap<String, String>>, FormRejection>;

/// `mailbox=<addr>&lifetime=<secs>[&revoked=true]` → a bearer token for a PER/ORG mailbox
/// (`revoked=true`: revoked before it is handed out, the profile's `negative.revoked_token`).
/// With `grant_type`: an OAuth 2.0 grant ([`crate::grants`]).
async fn token(State(state): State<HttpState>, headers: HeaderMap, form: FormFields) -> Response {
    let Ok(Form(fields)) = form else {
        return bad_request("expected an application/x-www-form-urlencoded body");
    };
    if fields.contains_key("grant_type") {
        return crate::grants::answer(&state.ctx, &fields, &headers);
    }
    let Some(mailbox) = fields.get("mailbox").map(|m| m.trim()).filter(|m| !m.is_empty()) else {
        return bad_request("missing field `mailbox`");
    };
    let lifetime = match fields.get("lifetime").map(|l| l.trim().parse::<i64>()) {
        None => DEFAULT_LIFETIME,
        Some(Ok(l)) if l.abs() <= MAX_LIFETIME => state.ctx.tokens.grants.cap(l),
        Some(_) => return bad_request("`lifetime` must be whole seconds within a year (negative: already expired)"),
    };
    let revoked = match fields.get("revoked").map(|r| r.trim()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return bad_request("`revoked` must be `true` or `false`"),
    };
    let account = match state.ctx.accounts.get(mailbox) {
        Some(a) if a.kind != MailboxKind::Applicative => a,
        Some(_) => return bad_request("APP mailboxes log in with a client certificate, not a token"),
        None => return bad_request("unknown mailbox"),
    };
    let access_token = state.ctx.tokens.issue(&account.address, account.rpps, lifetime);
    if revoked {
        state.ctx.tokens.revoke(&access_token);
    }
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime.max(0),
        "scope": "openid scope_all mail",
    }))
    .into_response()
}

/// RFC 7662 introspection: `token=` → claims when active, `{"active":false}` otherwise.
async fn introspect(State(state): State<HttpState>, form: FormFields) -> Response {
    let Ok(Form(fields)) = form else {
        return bad_request("expected an application/x-www-form-urlencoded body");
    };
    let Some(token) = fields.get("token") else { return bad_request("missing field `token`") };
    let now = chrono::Utc::now().timestamp();
    match state.ctx.tokens.claims(token) {
        Some(c) if c.exp > now && !state.ctx.tokens.is_revoked(token) => Json(json!({
            "active": true,
            "exp": c.exp,
            "iat": c.iat,
            "iss": c.iss,
            "sub": c.sub,
            "mailbox": c.mailbox,
            "SubjectNameID": c.subject_name_id,
            "scope": c.scope,
            "token_type": "Bearer",
        }))
        .into_response(),
        _ => Json(json!({ "active": false })).into_response(),
    }
}

fn bad_request(description: &str) -> Response {
    let body = json!({ "error": "invalid_request", "error_description": description });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Where the test root's CRL is published (DER, `application/pkix-crl`).
pub const CRL_PATH: &str = "/crl/root.crl";

async fn crl(State(state): State<HttpState>) -> Response {
    match &state.ctx.crl {
        Some(der) => ([(header::CONTENT_TYPE, "application/pkix-crl")], der.as_ref().clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn whitelist(State(state): State<HttpState>) -> Response {
    xml(whitelist_xml(&state.ctx.whitelist))
}

/// The whitelist in the published shape: `ListeBlanche/Domaine/Nom` in [`WHITELIST_NS`].
pub fn whitelist_xml(domains: &[String]) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListeBlanche xmlns=\"{WHITELIST_NS}\">\n");
    for domain in domains {
        out += &format!("  <Domaine>\n    <Nom>{}</Nom>\n  </Domaine>\n", escape(domain));
    }
    out + "</ListeBlanche>\n"
}

async fn autoconfig(State(state): State<HttpState>) -> Response {
    xml(autoconfig_xml(&state.ctx.accounts.domain, &state.endpoints))
}

/// Mozilla autoconfig (clientConfig 1.1) pointing at the four mail endpoints.
pub fn autoconfig_xml(domain: &str, endpoints: &Endpoints) -> String {
    let server = |kind: &str, tag: &str, addr: std::net::SocketAddr, socket: &str, auth: &str| {
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{}</hostname>\n      <port>{}</port>\n      \
             <socketType>{socket}</socketType>\n      <authentication>{auth}</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{tag}>\n",
            addr.ip(),
            addr.port()
        )
    };
    let d = escape(domain);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  <emailProvider id=\"{d}\">\n    \
         <domain>{d}</domain>\n    <displayName>mssconf mock operator (fictitious)</displayName>\n"
    );
    out += &server("imap", "incomingServer", endpoints.imap_implicit, "SSL", "OAuth2");
    out += &server("imap", "incomingServer", endpoints.imap_starttls, "STARTTLS", "OAuth2");
    out += &server("smtp", "outgoingServer", endpoints.smtp_implicit, "SSL", "OAuth2");
    out += &server("smtp", "outgoingServer", endpoints.smtp_starttls, "STARTTLS", "OAuth2");
    out + "  </emailProvider>\n</clientConfig>\n"
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitelist_has_the_published_shape() {
        let xml = whitelist_xml(&["a.test".into(), "hôpital-fictif.mssante.test".into(), "x&y".into()]);
        assert!(xml.contains("<ListeBlanche xmlns=\"https://listeblanche.mssante.fr/schema\">"));
        assert!(xml.contains("<Domaine>\n    <Nom>hôpital-fictif.mssante.test</Nom>\n  </Domaine>"));
        assert!(xml.contains("<Nom>x&amp;y</Nom>"));
    }

    #[test]
    fn autoconfig_names_every_endpoint() {
        let at = |p: u16| std::net::SocketAddr::from(([127, 0, 0, 1], p));
        let endpoints =
            Endpoints { smtp_starttls: at(1), smtp_implicit: at(2), imap_starttls: at(3), imap_implicit: at(4), http: at(5) };
        let xml = autoconfig_xml("op.test", &endpoints);
        for port in 1..=4 {
            assert!(xml.contains(&format!("<port>{port}</port>")));
        }
        assert_eq!(xml.matches("<socketType>STARTTLS</socketType>").count(), 2);
    }
}
