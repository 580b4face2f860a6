//! The profile's HTTP URLs (token issuer, introspection, whitelist, autoconfig): each is reached
//! with one GET through the run's HTTP client (the profile's anchors only, its timeouts, no
//! redirect outside the declared hosts). Any HTTP answer means reachable; only the whitelist,
//! which scenarios read, must answer 200.

use super::{Finding, same, text};
use crate::exec::env::RunEnv;

pub async fn check(env: &RunEnv) -> Vec<Finding> {
    let h = &env.target.http;
    let urls = [("http.token_issuer", &h.token_issuer), ("http.introspection", &h.introspection), ("http.whitelist", &h.whitelist), ("http.autoconfig", &h.autoconfig)];
    let mut out = Vec::new();
    for (name, url) in urls {
        if let Some(url) = url {
            out.push(one(env, name, url).await);
        }
    }
    out
}

async fn one(env: &RunEnv, name: &str, url: &str) -> Finding {
    if let Err(e) = env.hosts.check_url(url) {
        return Finding::fix(name, "http", same(e.to_string()), text("corriger l'URL du profil", "fix the profile's URL"));
    }
    env.pace_http(url).await;
    let answer = crate::exec::timing::server(env.http().get(url).send()).await;
    match answer {
        Ok(resp) => {
            let status = resp.status();
            let seen = same(format!("{url}: HTTP {status}"));
            if name == "http.whitelist" && !status.is_success() {
                Finding::fix(name, "http", seen, text("la liste blanche doit répondre 200 : vérifier l'URL", "the whitelist must answer 200: check the URL"))
            } else if status.is_server_error() {
                Finding::warning(name, "http", seen, text("le service répond en erreur : voir avec l'opérateur", "the service answers with an error: ask the operator"))
            } else {
                Finding::ok(name, "http", seen)
            }
        }
        Err(e) => Finding::fix(
            name,
            "http",
            same(format!("{url}: {}", crate::exec::http::causes(&e))),
            text("URL injoignable : vérifier l'hôte, le port, le certificat (ancres du profil) et le pare-feu", "URL unreachable: check the host, port, certificate (profile's anchors) and firewall"),
        ),
    }
}

