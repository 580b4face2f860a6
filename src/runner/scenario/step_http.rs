//! `http` steps: the request rendered from the step, sent by `exec::http`, the response judged
//! against the step's expectation.

use crate::exec::env::RunEnv;
use crate::exec::error::ExecError;
use crate::exec::http::{HttpRequest, request};
use crate::scenario::model::HttpStep;
use crate::scenario::spans::Expectation;
use crate::verdict;

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
            if let Some(reply) = step.expect.as_ref().and_then(|e| verdict::temporary::http_status(e.status, &obs)) {
                st.transcript.note(&format!("service temporarily unavailable ({reply}): not judged"));
                out.error = Some(ExecError::unavailable(&reply));
            } else if let Some(e) = &step.expect {
                out.judge_at(verdict::judge_http(e, &obs), st.expect_at(Expectation::Step));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A rate limit (`429`) where `200` is expected is "try later": an `unavailable` error
    /// naming it, no failed check (issue #20 item 4).
    #[tokio::test]
    async fn a_429_where_200_is_expected_is_unavailable_not_a_failure() {
        let answer = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 60\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let port = crate::exec::env::tests::http_server(answer.to_vec()).await;
        let env = super::super::driver::tests::env(port);
        let mut st = super::super::driver::tests::state(&env);
        let step: HttpStep = serde_saphyr::from_str(&format!("url: 'http://127.0.0.1:{port}/liste.xml'\nexpect: {{ status: 200 }}\n")).unwrap();
        let out = run(&env, &mut st, &step).await;
        let e = out.error.as_ref().expect("an error, not a verdict");
        assert_eq!(e.category(), crate::exec::error::Category::Unavailable, "{e}");
        assert!(e.message().contains("HTTP 429"), "{e}");
        assert!(!out.failed() && out.checks.is_empty(), "{:?}", out.checks);
    }
}
