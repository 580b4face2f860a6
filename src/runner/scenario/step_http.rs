//! `http` steps: the request rendered from the step, sent by `exec::http`, the response judged
//! against the step's expectation.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::http::{HttpRequest, request};
use crate::scenario::model::HttpStep;
use crate::scenario::spans::Expectation;
use crate::verdict;

use super::expect_vars;
use super::state::{ScenarioState, StepOutput};

pub async fn run(env: &RunEnv, st: &mut ScenarioState, step: &HttpStep) -> StepOutput {
    let mut out = StepOutput::default();
    let observed = match render(st, step) {
        Ok(r) => {
            let t = st.connection("http");
            request(env, &t, &r).await
        }
        Err(e) => Err(e),
    };
    match observed {
        Ok(obs) => {
            if let Some(e) = &step.expect {
                match expect_vars::http(st, e.clone()) {
                    Ok(e) => {
                        out.judge_at(verdict::judge_http(&e, &obs), st.expect_at(Expectation::Step));
                    }
                    Err(err) => out.error = Some(err),
                }
            }
        }
        Err(e) => out.error = Some(e),
    }
    out
}

fn render(st: &ScenarioState, step: &HttpStep) -> Result<HttpRequest, ExecError> {
    let headers = step.headers.iter().map(|(k, v)| Ok((k.clone(), st.render(v)?))).collect::<Result<_, ExecError>>()?;
    let body = step.body.as_ref().map(|b| st.render(b)).transpose()?;
    Ok(HttpRequest { method: step.method.clone(), url: st.render(&step.url)?, headers, body })
}
