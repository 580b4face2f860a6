//! CAPABILITY lists: what the operator announces before TLS, after TLS, after login.

use imap_types::auth::AuthMechanism;
use imap_types::core::{Text, Vec1};
use imap_types::response::{Capability, Code, Greeting, GreetingKind};

use crate::faults::{Fault, FaultSet};

/// Where the session stands when it announces its capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    pub secure: bool,
    pub authenticated: bool,
}

pub fn capabilities(faults: &FaultSet, stage: Stage) -> Vec1<Capability<'static>> {
    let mut caps = vec![Capability::Imap4Rev1];
    let offer_auth = stage.secure || faults.is_on(Fault::AuthBeforeTls);
    if !stage.secure {
        caps.push(Capability::StartTls);
        if !offer_auth {
            caps.push(Capability::LoginDisabled);
        }
    }
    if offer_auth && !stage.authenticated {
        caps.push(Capability::SaslIr);
        for mechanism in ["XOAUTH2", "OAUTHBEARER", "PLAIN", "EXTERNAL"] {
            if let Ok(m) = AuthMechanism::try_from(mechanism) {
                caps.push(Capability::Auth(m));
            }
        }
    }
    if !faults.is_on(Fault::NoIdle) {
        caps.push(Capability::Idle);
    }
    caps.extend([Capability::Move, Capability::UidPlus, Capability::Enable, Capability::Unselect, Capability::LiteralPlus]);
    Vec1::try_from(caps).unwrap_or_else(|_| Vec1::from(Capability::Imap4Rev1))
}

/// `* OK [CAPABILITY …] <host> ready`.
pub fn greeting(faults: &FaultSet, stage: Stage, host_name: &str) -> Greeting<'static> {
    let text = Text::try_from(format!("{host_name} MSSante mock IMAP service ready"))
        .unwrap_or_else(|_| Text::unvalidated("MSSante mock IMAP service ready"));
    Greeting { kind: GreetingKind::Ok, code: Some(Code::Capability(capabilities(faults, stage))), text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_codec::GreetingCodec;
    use imap_codec::encode::Encoder;

    fn line(faults: &FaultSet, secure: bool, authenticated: bool) -> String {
        let greeting = greeting(faults, Stage { secure, authenticated }, "imap.op.test");
        String::from_utf8(GreetingCodec::default().encode(&greeting).dump()).unwrap()
    }

    #[test]
    fn clear_text_offers_starttls_only() {
        let l = line(&FaultSet::none(), false, false);
        assert!(l.starts_with("* OK [CAPABILITY IMAP4REV1 STARTTLS LOGINDISABLED IDLE"), "{l}");
        assert!(!l.contains("AUTH="), "{l}");
    }

    #[test]
    fn tls_offers_the_mechanisms() {
        let l = line(&FaultSet::none(), true, false);
        for cap in ["SASL-IR", "AUTH=XOAUTH2", "AUTH=OAUTHBEARER", "AUTH=PLAIN", "AUTH=EXTERNAL", "IDLE", "MOVE", "UIDPLUS"] {
            assert!(l.contains(cap), "{cap} missing: {l}");
        }
        assert!(!l.contains("STARTTLS") && !l.contains("LOGINDISABLED"), "{l}");
        assert!(!line(&FaultSet::none(), true, true).contains("AUTH="));
    }

    #[test]
    fn faults_change_the_list() {
        let l = line(&[Fault::AuthBeforeTls].into_iter().collect(), false, false);
        assert!(l.contains("STARTTLS") && l.contains("AUTH=XOAUTH2") && !l.contains("LOGINDISABLED"), "{l}");
        assert!(!line(&[Fault::NoIdle].into_iter().collect(), true, false).contains("IDLE"));
    }
}
