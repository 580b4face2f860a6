//! Shared by the `evidence_*` tests: an in-process run (runner + RunEnv, as `mssconf run` does)
//! that writes evidence and reports, and a scanner looking for tokens in files.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use mssconf::lang::Lang;
use mssconf::exec::env::RunEnv;
use mssconf::plan::filter::Filter;
use mssconf::plan::plan;
use mssconf::record::RunRecord;
use mssconf::runner::{self, TargetChoice};
use mssconf::scenario::catalogue::{self, Sources};
use tokio::sync::{mpsc, watch};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The evidence tests' own scenarios: a copy of the production test and token refusals.
pub fn test_scenarios() -> PathBuf {
    root().join("tests/data/evidence")
}

/// Selects every scenario, production-tagged ones included.
pub fn everything() -> Filter {
    Filter::new(vec!["*".into()], vec![], vec![], &[]).expect("filter")
}

pub struct InProcessRun {
    pub record: RunRecord,
    pub dir: PathBuf,
    /// Every bearer token the run used or the mock issued.
    pub tokens: Vec<String>,
}

/// Runs the scenarios under `paths` selected by `filter` against `target`, then writes the
/// evidence and the reports into `dir`, like `mssconf run`.
pub fn run_in_process(paths: Vec<PathBuf>, filter: &Filter, target: TargetChoice, dir: &Path) -> InProcessRun {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let sources = Sources {
            paths,
            index: root().join("scenarios/requirements.yaml"),
            fixtures: root().join("fixtures/fixtures.yaml"),
        };
        let catalogue = Arc::new(catalogue::load(&sources).unwrap_or_else(|e| panic!("catalogue: {e:?}")));
        let acquired = runner::acquire(&target).await.unwrap_or_else(|e| panic!("target: {e}"));
        let run_id = runner::new_run_id();
        let cases: Vec<runner::Case> = plan(&catalogue.scenarios, filter, &acquired.target)
            .iter()
            .map(|c| (catalogue.scenarios.iter().position(|l| std::ptr::eq(l, c.loaded)).expect("planned scenario"), c.decision.clone()))
            .collect();
        let env = RunEnv::new(acquired.target.clone(), catalogue.fixtures.clone(), root().join("fixtures"), run_id.clone())
            .unwrap_or_else(|e| panic!("env: {e}"));
        let mut record = runner::new_record(&run_id, &acquired.target, acquired.mock.is_some(), vec!["evidence test".into()]);
        let (tx, _rx) = mpsc::unbounded_channel();
        let (_stop, stop_rx) = watch::channel(false);
        let runs = runner::execute(env.clone(), catalogue.clone(), cases, 4, tx, stop_rx).await;
        let (records, messages): (Vec<_>, Vec<_>) = runs.into_iter().map(|r| (r.record, r.messages)).unzip();
        record.scenarios = records;
        record.finished = Some(chrono::Utc::now());
        let mut tokens = vec![format!("mssconf-malformed-token-{run_id}")];
        if let Some(mock) = acquired.mock {
            tokens.extend(mock.context().tokens.issued_tokens());
            mock.shutdown().await;
        }
        mssconf::evidence::write_evidence(&mut record, messages, dir, Lang::Fr, Some(&env.secrets)).expect("evidence written");
        mssconf::report::write_all(&record, &catalogue.index, dir, Lang::Fr).expect("reports written");
        InProcessRun { record, dir: dir.to_path_buf(), tokens }
    })
}

/// Every file under `dir`, recursively, with its bytes; zip files also yield their entries
/// (decompressed) as `<zip>!<entry>`.
pub fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).expect("read file");
            if p.extension().is_some_and(|x| x == "zip") {
                let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).expect("zip");
                for i in 0..z.len() {
                    let mut f = z.by_index(i).expect("zip entry");
                    let mut b = Vec::new();
                    f.read_to_end(&mut b).expect("zip entry bytes");
                    out.push((format!("{}!{}", p.display(), f.name().expect("name")), b));
                }
            }
            out.push((p.display().to_string(), bytes));
        }
    }
    out
}

/// The base64 forms under which `secret` can appear inside a longer encoded text: for each of
/// the three alignments, the characters that depend on the secret's bytes only.
fn base64_forms(secret: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    for shift in 0..3usize {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(secret);
        let enc = STANDARD.encode(&padded);
        let lead = (shift * 4).div_ceil(3);
        let trail = if (shift + secret.len()).is_multiple_of(3) { 0 } else { 4 };
        if enc.len() > lead + trail + 8 {
            let core = &enc[lead..enc.len() - trail];
            forms.push(core.to_string());
            forms.push(core.replace('+', "-").replace('/', "_"));
        }
    }
    forms
}

/// Runs of base64-looking characters (standard or URL-safe), at least 16 long, decoded at the
/// four possible starting offsets.
fn decoded_runs(hay: &[u8]) -> Vec<Vec<u8>> {
    let is_b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=');
    let mut out = Vec::new();
    for run in hay.split(|b| !is_b64(b)).filter(|r| r.len() >= 16) {
        let text: Vec<u8> = run.iter().copied().filter(|b| *b != b'=').collect();
        for start in 0..4.min(text.len()) {
            let mut chunk = text[start..].to_vec();
            chunk.truncate(chunk.len() / 4 * 4);
            for engine in [&STANDARD, &URL_SAFE] {
                if let Ok(d) = engine.decode(&chunk) {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// Looks for a set of tokens in files: each token and each secret-bearing part of it (a JWT's
/// payload and signature; the header is generic), in clear and base64-encoded.
pub struct Scanner {
    /// (text to find, how it shows)
    needles: Vec<(String, &'static str)>,
    plain: Vec<String>,
}

impl Scanner {
    pub fn new(tokens: &[String]) -> Self {
        let mut plain = Vec::new();
        for t in tokens {
            plain.push(t.clone());
            plain.extend(t.split('.').skip(1).filter(|p| p.len() >= 16).map(String::from));
        }
        let mut needles: Vec<(String, &'static str)> = plain.iter().map(|p| (p.clone(), "in clear")).collect();
        for p in &plain {
            needles.extend(base64_forms(p.as_bytes()).into_iter().map(|f| (f, "base64-encoded")));
        }
        Scanner { needles, plain }
    }

    /// How a token shows in `hay`, if it does.
    pub fn scan(&self, hay: &[u8]) -> Option<String> {
        // Lossy UTF-8 keeps every ASCII run intact, and tokens are ASCII.
        let text = String::from_utf8_lossy(hay);
        if let Some((_, how)) = self.needles.iter().find(|(n, _)| text.contains(n.as_str())) {
            return Some(how.to_string());
        }
        decoded_runs(hay)
            .iter()
            .any(|d| {
                let d = String::from_utf8_lossy(d);
                self.plain.iter().any(|p| d.contains(p.as_str()))
            })
            .then(|| "inside a decoded base64 run".into())
    }
}

/// Where `token` (or a secret part of it) shows in `hay`, if it does.
pub fn find_token(hay: &[u8], token: &str) -> Option<String> {
    Scanner::new(&[token.to_string()]).scan(hay)
}
