//! From a scenario's message spec to the bytes sent: variables resolved, fixtures attached.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::message::{AttachmentData, Built, Content, Draft, Generated, build};
use crate::fixtures::xdm;
use crate::scenario::model::{Attachment, MessageSpec};

use super::state::ScenarioState;

pub fn compose(env: &RunEnv, st: &ScenarioState, spec: &MessageSpec) -> Result<Built, ExecError> {
    let from = st.render(&spec.from)?;
    let domain = from.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_else(|| "mssconf.invalid".into());
    let nonce = &crate::util::digest::sha256_hex(format!("{}{}{:?}", env.run_id, spec.name.value, std::time::Instant::now()).as_bytes())[..10];
    let mut headers = Vec::new();
    for (k, v) in &spec.headers {
        headers.push((k.clone(), st.render(v)?));
    }
    let mut attachments = Vec::new();
    for a in &spec.attachments {
        attachments.push(attachment(env, st, a)?);
    }
    let draft = Draft {
        name: spec.name.value.clone(),
        from,
        to: spec.to.iter().map(|t| st.render(t)).collect::<Result<_, _>>()?,
        subject: st.render(&spec.subject)?,
        headers,
        body: spec.body.as_ref().map(|b| st.render(b)).transpose()?,
        body_8bit: spec.body_8bit,
        attachments,
        disposition_notification_to: spec.disposition_notification_to.as_ref().map(|d| st.render(d)).transpose()?,
        pad_to_bytes: spec.pad_to_bytes,
        message_id: format!("mssconf.{}.{}.{nonce}@{domain}", env.run_id, spec.name.value),
    };
    Ok(build(&draft))
}

fn attachment(env: &RunEnv, st: &ScenarioState, a: &Attachment) -> Result<AttachmentData, ExecError> {
    match a {
        Attachment::File(f) => {
            let path = env.fixtures_dir.join(st.render(&f.path)?);
            let bytes = std::fs::read(&path).map_err(|e| ExecError::harness(format!("fixture {}: {e}", path.display())))?;
            let filename = f.filename.clone().unwrap_or_else(|| {
                path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "attachment".into())
            });
            Ok(AttachmentData { filename, content_type: f.content_type.clone(), content: Content::Bytes(bytes) })
        }
        Attachment::Xdm(x) => {
            let patient = st.render(&x.patient)?;
            let documents = x.documents.iter().map(|d| st.render(d)).collect::<Result<Vec<_>, _>>()?;
            let bytes = xdm::build_for(&env.fixtures, &env.fixtures_dir, &patient, &documents)
                .map_err(|e| ExecError::harness(e.to_string()))?;
            Ok(AttachmentData { filename: xdm::FILE_NAME.into(), content_type: "application/zip".into(), content: Content::Bytes(bytes) })
        }
        Attachment::Generated(g) => Ok(AttachmentData {
            filename: g.filename.clone().unwrap_or_else(|| "generated.bin".into()),
            content_type: g.content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
            content: Content::Generated(Generated { size: g.size, seed: g.seed.unwrap_or(1) }),
        }),
    }
}
