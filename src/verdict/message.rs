//! Judging a fetched message: headers, comparison with what was sent, DSN/MDN fields.

use super::check::Checks;
use crate::exec::observation::FetchedMessage;
use crate::scenario::model::MessageItems;

pub fn judge(c: &mut Checks, e: &MessageItems<'_>, m: &FetchedMessage) {
    let header = |name: &str| m.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string());
    for (name, want) in e.headers {
        let got = header(name);
        c.push(format!("header {name}"), want, got.clone().unwrap_or_else(|| "absent".into()), got.as_deref() == Some(want.trim()));
    }
    for name in e.headers_absent {
        let got = header(name);
        c.push(format!("header {name}"), "absent", got.clone().unwrap_or_else(|| "absent".into()), got.is_none());
    }
    if let Some(wanted) = e.matches_sent {
        match &m.comparison {
            None => c.push("comparison with the sent message", "done", "not possible", false),
            Some(cmp) => {
                for (name, sent, got) in &cmp.headers {
                    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "absent".into());
                    c.push(format!("header {name} as sent"), show(sent), show(got), sent == got);
                }
                // `parts: false` compares headers only.
                for (part, sent, got) in cmp.parts.iter().filter(|_| wanted.parts) {
                    let got_s = got.clone().unwrap_or_else(|| "part missing".into());
                    c.push(format!("part {part} sha256 as sent"), short(sent), short(&got_s), got.as_deref() == Some(sent.as_str()));
                }
            }
        }
    }
    if let Some(r) = e.report {
        match &m.report {
            None => c.push("report", format!("multipart/report; report-type={}", r.report_type), "not a report", false),
            Some(got) => {
                c.push("report type", &r.report_type, &got.report_type, got.report_type.eq_ignore_ascii_case(&r.report_type));
                if !r.action.is_empty() {
                    let ok = !got.actions.is_empty() && got.actions.iter().all(|a| r.action.iter().any(|w| w.eq_ignore_ascii_case(a)));
                    c.push("DSN Action", r.action.join(" or "), got.actions.join(", "), ok);
                }
                if let Some(s) = &r.status {
                    let ok = !got.statuses.is_empty() && got.statuses.iter().all(|x| x.starts_with(s.as_str()));
                    c.push("DSN Status", format!("{s}*"), got.statuses.join(", "), ok);
                }
                if let Some(env) = &r.envelope_id {
                    let g = got.envelope_id.clone().unwrap_or_else(|| "absent".into());
                    c.push("Original-Envelope-Id", env, g.clone(), g == *env);
                }
                if let Some(msgid) = &r.original_message {
                    let g = got.original_message_id.clone().unwrap_or_else(|| "absent".into());
                    c.push("Original-Message-ID", msgid, g.clone(), g.trim() == msgid.trim());
                }
                if let Some(d) = &r.disposition_contains {
                    c.contains("Disposition", got.disposition.as_deref().unwrap_or(""), d);
                }
            }
        }
    }
}

fn short(h: &str) -> String {
    if h.len() > 16 { format!("{}…", &h[..16]) } else { h.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::observation::Comparison;

    fn fetched() -> FetchedMessage {
        FetchedMessage {
            comparison: Some(Comparison {
                sent_name: "m1".into(),
                headers: vec![("X-MSS-NIL".into(), Some("DEV1".into()), Some("DEV1".into()))],
                parts: vec![("1 application/zip".into(), "aaaa".into(), Some("bbbb".into()))],
            }),
            ..Default::default()
        }
    }

    fn judge_with(yaml: &str) -> Vec<crate::verdict::Check> {
        let e: crate::scenario::model::ImapExpect = serde_saphyr::from_str(yaml).unwrap();
        let mut c = Checks::default();
        for item in e.items() {
            if let crate::scenario::model::ImapItem::Message(m) = item {
                judge(&mut c, &m, &fetched());
            }
        }
        c.into_vec()
    }

    #[test]
    fn parts_false_compares_headers_only() {
        let checks = judge_with("{matches_sent: {message: m1, parts: false}}");
        assert_eq!(checks.len(), 1);
        assert!(checks[0].passed);
        let checks = judge_with("{matches_sent: {message: m1}}");
        assert_eq!(checks.iter().filter(|c| !c.passed).count(), 1, "the altered part is seen by default");
    }
}
