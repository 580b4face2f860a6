//! The description as the dry run prints it: plain English lines, what is contacted and sent
//! and what the harness would refuse. Items with nothing to plan (EHLO, QUIT, folder commands)
//! print nothing.

use super::expect::expecting_en;
use super::*;
use crate::target::model::TlsMode;

/// `step 2 "title" (only if the transaction `t1` was accepted)` then the step's lines.
pub fn lines(number: usize, d: &StepDescription<'_>) -> Vec<String> {
    let only_if = d.only_if_accepted.map(|t| format!(" (only if the transaction `{t}` was accepted)")).unwrap_or_default();
    let mut out = vec![format!("step {number} \"{}\"{only_if}", d.title)];
    for i in &d.items {
        does(&mut out, &i.does);
    }
    out
}

fn does(out: &mut Vec<String>, d: &Does<'_>) {
    match d {
        Does::Connect(c) => {
            let protocol = match c.protocol {
                Protocol::Smtp => "smtp",
                Protocol::Imap => "imap",
            };
            out.push(connect(protocol, &c.at));
            if let Some(cert) = c.client_cert {
                out.push(format!("  client certificate: {}", client_cert(cert)));
            }
        }
        Does::Login(l) => out.push(login(l)),
        Does::PlainLogin { user } => out.push(format!("  LOGIN {user} (a refusal test; password not shown)")),
        Does::MailFrom { address, .. } => out.push(format!("  MAIL FROM <{address}>")),
        Does::RcptTo(r) => recipient(out, r),
        Does::Message(m) => out.push(message(m)),
        Does::Transaction(t) => {
            out.push(format!("  transaction (judged as a whole): MAIL FROM <{}>", t.from));
            for r in &t.to {
                recipient(out, r);
            }
            match &t.message {
                Some(m) => {
                    out.push("  if every command is accepted:".into());
                    out.push(message(m));
                }
                None => out.push("  RSET if every command is accepted (no message)".into()),
            }
        }
        Does::RawCommand { line, opens_a_message } => {
            let note = if *opens_a_message == Some(true) { " (counted as a message: it takes a slot of the rate and cap)" } else { "" };
            out.push(format!("  raw command: {line}{note}"));
        }
        Does::Starttls { .. } => out.push("  STARTTLS".into()),
        Does::Append { message, folder, .. } => out.push(format!("  APPEND the sent message `{message}` to folder {folder}")),
        Does::WaitFor(w) => out.push(format!("  wait for a message in {}", w.folder)),
        Does::Tls(t) => tls(out, t),
        Does::Http(h) => {
            out.push(format!("  HTTP {} {}", h.method, h.url));
            if let Some(why) = &h.refused {
                out.push(format!("    REFUSED: {why}"));
            }
        }
        Does::Wait { ms } => out.push(format!("  wait {ms} ms")),
        Does::Invalid => out.push("  (no protocol key: the step would end in error)".into()),
        Does::Ehlo { .. }
        | Does::ExpectClosed { .. }
        | Does::Quit
        | Does::Capability
        | Does::Folder { .. }
        | Does::List { .. }
        | Does::Fetch { .. }
        | Does::Search { .. }
        | Does::Store { .. }
        | Does::Move { .. }
        | Does::Logout => {}
    }
}

/// `  connect smtp smtp_starttls = 127.0.0.1:2525 (STARTTLS, SNI mx.op.test)`
fn connect(what: &str, at: &At<'_>) -> String {
    match at.endpoint {
        Some(ep) => {
            let tls = match ep.tls {
                TlsMode::Starttls => "STARTTLS",
                TlsMode::Implicit => "implicit TLS",
            };
            format!("  connect {what} {} = {}:{} ({tls}, SNI {})", at.name, ep.host, ep.port, at.server_name)
        }
        None => format!("  connect {what} {}: not declared (the plan skips such scenarios)", at.name),
    }
}

fn client_cert(c: CertUse<'_>) -> String {
    match c {
        CertUse::Mailbox(m) => format!("of mailbox `{}`", m.role),
        CertUse::Expired => "the expired one (negative.expired_client_cert)".into(),
        CertUse::Foreign => "the foreign-CA one (negative.foreign_client_cert)".into(),
        CertUse::Revoked => "the revoked one (negative.revoked_client_cert)".into(),
    }
}

fn login(l: &Login<'_>) -> String {
    let role = l.mailbox.role;
    let (mechanism, credential, instead_of) = match &l.form {
        LoginForm::CertificateOnly => {
            return format!("  no AUTH: mailbox `{role}` logs in by its client certificate alone (the target's app_auth_form)");
        }
        LoginForm::Sasl { mechanism, credential, instead_of, .. } => (mechanism, credential, instead_of),
    };
    let address = l.mailbox.declared.map_or("<undeclared>", |m| m.address.as_str());
    let with = match credential {
        CredentialUse::Malformed => "a malformed token made up by the harness".to_string(),
        CredentialUse::Expired(s) => format!("the expired token ({})", source(s)),
        CredentialUse::Revoked(s) => format!("the revoked token ({})", source(s)),
        CredentialUse::TokenOf { mailbox, source: s } => format!("the token of `{}` ({})", mailbox.role, source(s)),
        CredentialUse::Derived { from, source: s, alteration } => {
            format!("a token forged by the harness from the token of `{}` ({}): {}", from.role, source(s), alteration.describe())
        }
        CredentialUse::Valid { token: Some(s), .. } => format!("its token ({})", source(s)),
        CredentialUse::Valid { token: None, certificate: true } => "its client certificate".into(),
        CredentialUse::Valid { token: None, certificate: false } => "no credential declared".into(),
    };
    let form = instead_of.map(|w| format!(" (the target's app_auth_form, instead of {})", w.name())).unwrap_or_default();
    format!("  authenticate {} as mailbox `{role}` <{address}> with {with}{form}", mechanism.name())
}

/// Where a secret would come from.
fn source(s: &Source) -> String {
    match s {
        Source::NotDeclared => "not declared".into(),
        Source::Env(var) => format!("environment variable {var}"),
        Source::File(f) => format!("file {}", f.display()),
        Source::Command(program) => format!("helper command {program}"),
        Source::Oauth2 { grant, endpoint } => format!("OAuth 2.0 {grant} grant at POST {endpoint}"),
        Source::Issuer(Some(url)) => format!("token issuer POST {url}"),
        Source::Issuer(None) => "token issuer, not declared".into(),
    }
}

fn recipient(out: &mut Vec<String>, r: &Recipient<'_>) {
    out.push(format!("  RCPT TO <{}>{}", r.address, expecting_en(r.expecting)));
    if let Some(why) = &r.refused {
        out.push(format!("    REFUSED: {why}"));
    }
}

fn message(m: &Message<'_>) -> String {
    let size = match m.size {
        Some((n, exact)) => format!(", {}{n} bytes", if exact { "" } else { "about " }),
        None => String::new(),
    };
    format!("  send message `{}`: subject \"{}\", from {} to {}{size}", m.spec.name.value, m.subject, m.from, m.to.join(", "))
}

fn tls(out: &mut Vec<String>, t: &TlsProbe<'_>) {
    match &t.kind {
        TlsKind::Handshake { crls, .. } => {
            out.push(connect("tls handshake", &t.at));
            if let Some(crl) = crls {
                let listed = if crl.is_empty() { "none declared in http.crl".to_string() } else { crl.join(", ") };
                out.push(format!(
                    "    then HTTP GET of the CRLs ({listed}, and the certificate's distribution points on declared hosts); OCSP not queried"
                ));
            }
        }
        TlsKind::Version { version, .. } => out.push(connect(&format!("tls probe ({} ClientHello)", super::fr::tls_version(version)), &t.at)),
        TlsKind::Families(Ok(families)) => {
            for f in families {
                out.push(connect(&format!("tls probe (TLS 1.2 suite family {})", f.describe()), &t.at));
            }
            if !families.is_empty() {
                let most = families.iter().map(|f| f.suites.len()).sum::<usize>();
                out.push(format!("    + one connection per suite the server accepts (at most {most} more)"));
            }
        }
        TlsKind::Families(Err(e)) => out.push(format!("  tls probe: {e} (the step will end in error)")),
        TlsKind::KeyExchange { offers, .. } => {
            for o in offers.iter().flatten() {
                out.push(connect(&format!("tls key-exchange probe ({o})"), &t.at));
            }
        }
        TlsKind::Nothing => {}
    }
}
