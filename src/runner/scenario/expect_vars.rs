//! `${…}` variables in expectations (`headers: {X-MSS-NIL: "${fixtures.lps.nil}"}`,
//! `whitelist_has: ["${target.domain}"]`…), resolved just before judging, like action fields.

use crate::exec::error::ExecError;
use crate::scenario::model::{CapabilityExpect, HttpExpect, ImapExpect, ReportExpect, SmtpExpect};

use super::state::ScenarioState;

fn one(st: &ScenarioState, s: &mut String) -> Result<(), ExecError> {
    if s.contains("${") {
        *s = st.render(s)?;
    }
    Ok(())
}

fn opt(st: &ScenarioState, s: &mut Option<String>) -> Result<(), ExecError> {
    s.as_mut().map(|s| one(st, s)).transpose().map(|_| ())
}

fn all(st: &ScenarioState, v: &mut [String]) -> Result<(), ExecError> {
    v.iter_mut().try_for_each(|s| one(st, s))
}

fn capabilities(st: &ScenarioState, c: &mut Option<CapabilityExpect>) -> Result<(), ExecError> {
    if let Some(c) = c {
        all(st, &mut c.has)?;
        all(st, &mut c.lacks)?;
        all(st, &mut c.auth_has)?;
    }
    Ok(())
}

fn report(st: &ScenarioState, r: &mut Option<ReportExpect>) -> Result<(), ExecError> {
    if let Some(r) = r {
        all(st, &mut r.action)?;
        opt(st, &mut r.status)?;
        opt(st, &mut r.envelope_id)?;
        opt(st, &mut r.original_message)?;
        opt(st, &mut r.disposition_contains)?;
    }
    Ok(())
}

pub fn smtp(st: &ScenarioState, mut e: SmtpExpect) -> Result<SmtpExpect, ExecError> {
    opt(st, &mut e.enhanced)?;
    opt(st, &mut e.text_contains)?;
    opt(st, &mut e.challenge_contains)?;
    capabilities(st, &mut e.capabilities)?;
    Ok(e)
}

pub fn imap(st: &ScenarioState, mut e: ImapExpect) -> Result<ImapExpect, ExecError> {
    opt(st, &mut e.code)?;
    opt(st, &mut e.text_contains)?;
    opt(st, &mut e.challenge_contains)?;
    opt(st, &mut e.untagged_contains)?;
    capabilities(st, &mut e.capabilities)?;
    for v in e.headers.values_mut() {
        one(st, v)?;
    }
    all(st, &mut e.headers_absent)?;
    report(st, &mut e.report)?;
    Ok(e)
}

pub fn http(st: &ScenarioState, mut e: HttpExpect) -> Result<HttpExpect, ExecError> {
    all(st, &mut e.body_contains)?;
    for v in e.header_contains.values_mut() {
        one(st, v)?;
    }
    all(st, &mut e.whitelist_has)?;
    all(st, &mut e.whitelist_lacks)?;
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::transcript::Transcript;
    use crate::scenario::interpolate::Vars;
    use serde_json::json;

    fn state() -> ScenarioState {
        let mut vars = Vars::default();
        vars.set("target", json!({"domain": "op.test"}));
        vars.set("fixtures", json!({"lps": {"nil": "DEV1"}}));
        ScenarioState::new(vars, Transcript::new(Default::default()))
    }

    #[test]
    fn expectation_strings_are_rendered() {
        let st = state();
        let e: ImapExpect = serde_saphyr::from_str(
            "{headers: {X-MSS-NIL: '${fixtures.lps.nil}'}, untagged_contains: 'x ${target.domain}', report: {report_type: delivery-status, envelope_id: 'E-${fixtures.lps.nil}'}}",
        )
        .unwrap();
        let e = imap(&st, e).unwrap();
        assert_eq!(e.headers["X-MSS-NIL"], "DEV1");
        assert_eq!(e.untagged_contains.as_deref(), Some("x op.test"));
        assert_eq!(e.report.unwrap().envelope_id.as_deref(), Some("E-DEV1"));
        let h: HttpExpect = serde_saphyr::from_str("{whitelist_has: ['${target.domain}']}").unwrap();
        assert_eq!(http(&st, h).unwrap().whitelist_has, ["op.test"]);
        let s: SmtpExpect = serde_saphyr::from_str("{text_contains: '${target.nope}'}").unwrap();
        assert!(smtp(&st, s).unwrap_err().message().contains("target.nope"));
    }
}
