//! CI identity and the CI's view of the commit, from allow-listed variables.
//!
//! `built` tells which CI platform runs the build; this module reads the
//! handful of variables each platform documents for its pipeline name, run
//! id, attempt and run page. No other variable is read, so no token can leak.

use crate::scrub::scrub_url;

/// The CI run that built the binary.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) provider: String,
    pub(crate) pipeline: Option<String>,
    pub(crate) run_id: Option<String>,
    pub(crate) attempt: Option<String>,
    pub(crate) url: Option<String>,
}

/// What the CI says of the commit, for when git cannot answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Commit {
    pub(crate) revision: String,
    pub(crate) ref_name: Option<String>,
    pub(crate) ref_type: Option<&'static str>,
}

/// Every variable this module may read; the build script reruns when one changes.
pub(crate) const VARIABLES: &[&str] = &[
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_WORKFLOW",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "GITHUB_REF_NAME",
    "GITHUB_REF_TYPE",
    "GITLAB_CI",
    "CI_PIPELINE_NAME",
    "CI_PROJECT_PATH",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_URL",
    "CI_COMMIT_SHA",
    "CI_COMMIT_TAG",
    "CI_COMMIT_BRANCH",
    "BUILDKITE",
    "BUILDKITE_PIPELINE_SLUG",
    "BUILDKITE_BUILD_NUMBER",
    "BUILDKITE_RETRY_COUNT",
    "BUILDKITE_BUILD_URL",
    "BUILDKITE_COMMIT",
    "BUILDKITE_BRANCH",
    "BUILDKITE_TAG",
    "JENKINS_URL",
    "JOB_NAME",
    "BUILD_NUMBER",
    "BUILD_URL",
    "GIT_COMMIT",
    "GIT_BRANCH",
    "TAG_NAME",
    "CIRCLECI",
    "CIRCLE_PROJECT_REPONAME",
    "CIRCLE_WORKFLOW_ID",
    "CIRCLE_BUILD_NUM",
    "CIRCLE_BUILD_URL",
    "CIRCLE_SHA1",
    "CIRCLE_BRANCH",
    "CIRCLE_TAG",
];

/// The run, given the platform `built` detected and a variable lookup.
pub(crate) fn run(
    platform: Option<built::CIPlatform>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Run> {
    use built::CIPlatform as P;
    let platform = platform?;
    let provider = platform.to_string();
    let v = |k: &str| env(k).filter(|s| !s.trim().is_empty());
    let run = match platform {
        P::GitHubActions => {
            let id = v("GITHUB_RUN_ID");
            let attempt = v("GITHUB_RUN_ATTEMPT");
            let url = match (v("GITHUB_SERVER_URL"), v("GITHUB_REPOSITORY"), &id) {
                (Some(server), Some(repo), Some(id)) => {
                    let mut u =
                        format!("{}/{repo}/actions/runs/{id}", server.trim_end_matches('/'));
                    if let Some(a) = &attempt {
                        u.push_str(&format!("/attempts/{a}"));
                    }
                    Some(u)
                }
                _ => None,
            };
            Run {
                provider,
                pipeline: v("GITHUB_WORKFLOW"),
                run_id: id,
                attempt,
                url,
            }
        }
        P::GitLab => Run {
            provider,
            pipeline: v("CI_PIPELINE_NAME").or_else(|| v("CI_PROJECT_PATH")),
            run_id: v("CI_PIPELINE_ID"),
            attempt: None,
            url: v("CI_PIPELINE_URL"),
        },
        P::Buildkite => Run {
            provider,
            pipeline: v("BUILDKITE_PIPELINE_SLUG"),
            run_id: v("BUILDKITE_BUILD_NUMBER"),
            // Buildkite counts retries; an attempt is one more.
            attempt: v("BUILDKITE_RETRY_COUNT")
                .and_then(|n| n.parse::<u64>().ok())
                .map(|n| (n + 1).to_string()),
            url: v("BUILDKITE_BUILD_URL"),
        },
        P::Jenkins | P::Hudson => Run {
            provider,
            pipeline: v("JOB_NAME"),
            run_id: v("BUILD_NUMBER"),
            attempt: None,
            url: v("BUILD_URL"),
        },
        P::Circle => Run {
            provider,
            pipeline: v("CIRCLE_PROJECT_REPONAME"),
            run_id: v("CIRCLE_WORKFLOW_ID").or_else(|| v("CIRCLE_BUILD_NUM")),
            attempt: None,
            url: v("CIRCLE_BUILD_URL"),
        },
        _ => Run {
            provider,
            ..Run::default()
        },
    };
    Some(Run {
        url: run.url.as_deref().and_then(scrub_url),
        ..run
    })
}

/// The commit as the CI reports it: the first platform variable that holds a
/// full or abbreviated hex object name.
pub(crate) fn commit(env: &dyn Fn(&str) -> Option<String>) -> Option<Commit> {
    let v = |k: &str| {
        env(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    // (commit, branch, tag) variables per platform; GitHub names a ref and
    // says in GITHUB_REF_TYPE whether it is a branch or a tag.
    const SOURCES: [(&str, &str, &str); 5] = [
        ("GITHUB_SHA", "GITHUB_REF_NAME", ""),
        ("CI_COMMIT_SHA", "CI_COMMIT_BRANCH", "CI_COMMIT_TAG"),
        ("BUILDKITE_COMMIT", "BUILDKITE_BRANCH", "BUILDKITE_TAG"),
        ("CIRCLE_SHA1", "CIRCLE_BRANCH", "CIRCLE_TAG"),
        ("GIT_COMMIT", "GIT_BRANCH", "TAG_NAME"),
    ];
    let (sha_var, branch_var, tag_var) = SOURCES
        .into_iter()
        .find(|(sha, _, _)| v(sha).is_some_and(|s| is_object_name(&s)))?;
    let mut c = Commit {
        revision: v(sha_var)?.to_ascii_lowercase(),
        ..Commit::default()
    };
    let branch_kind = if sha_var == "GITHUB_SHA" {
        v("GITHUB_REF_TYPE")
    } else {
        Some("branch".to_owned())
    };
    if let Some(tag) = v(tag_var) {
        (c.ref_name, c.ref_type) = (Some(tag), Some("tag"));
    } else if let Some(name) = v(branch_var) {
        c.ref_type = match branch_kind.as_deref() {
            Some("branch") => Some("branch"),
            Some("tag") => Some("tag"),
            _ => None,
        };
        c.ref_name = c.ref_type.map(|_| name);
    }
    Some(c)
}

/// A git object name: 7 to 64 hex digits.
pub(crate) fn is_object_name(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn github_actions_run_with_attempt_and_page() {
        let e = env(&[
            ("GITHUB_WORKFLOW", "ci"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "o/r"),
        ]);
        let r = run(Some(built::CIPlatform::GitHubActions), &e).unwrap();
        assert_eq!(r.pipeline.as_deref(), Some("ci"));
        assert_eq!(r.run_id.as_deref(), Some("42"));
        assert_eq!(r.attempt.as_deref(), Some("2"));
        assert_eq!(
            r.url.as_deref(),
            Some("https://github.com/o/r/actions/runs/42/attempts/2")
        );
    }

    #[test]
    fn gitlab_buildkite_jenkins_circle() {
        let gl = run(
            Some(built::CIPlatform::GitLab),
            &env(&[
                ("CI_PROJECT_PATH", "g/p"),
                ("CI_PIPELINE_ID", "7"),
                ("CI_PIPELINE_URL", "https://gl/g/p/-/pipelines/7"),
            ]),
        )
        .unwrap();
        assert_eq!(
            (gl.pipeline.as_deref(), gl.run_id.as_deref()),
            (Some("g/p"), Some("7"))
        );
        let bk = run(
            Some(built::CIPlatform::Buildkite),
            &env(&[
                ("BUILDKITE_PIPELINE_SLUG", "app"),
                ("BUILDKITE_BUILD_NUMBER", "9"),
                ("BUILDKITE_RETRY_COUNT", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(bk.attempt.as_deref(), Some("2"));
        let jk = run(
            Some(built::CIPlatform::Jenkins),
            &env(&[
                ("JOB_NAME", "app"),
                ("BUILD_NUMBER", "3"),
                ("BUILD_URL", "https://u:CANARY@j/job/app/3/"),
            ]),
        )
        .unwrap();
        assert_eq!(jk.url.as_deref(), Some("https://j/job/app/3"));
        let cc = run(
            Some(built::CIPlatform::Circle),
            &env(&[("CIRCLE_PROJECT_REPONAME", "r"), ("CIRCLE_BUILD_NUM", "5")]),
        )
        .unwrap();
        assert_eq!(
            (cc.pipeline.as_deref(), cc.run_id.as_deref()),
            (Some("r"), Some("5"))
        );
    }

    #[test]
    fn commit_from_ci_variables_validates_the_hash() {
        let c = commit(&env(&[
            ("GITHUB_SHA", "ABCDEF1234567"),
            ("GITHUB_REF_NAME", "main"),
            ("GITHUB_REF_TYPE", "branch"),
        ]))
        .unwrap();
        assert_eq!(c.revision, "abcdef1234567");
        assert_eq!(
            (c.ref_name.as_deref(), c.ref_type),
            (Some("main"), Some("branch"))
        );
        assert_eq!(commit(&env(&[("GITHUB_SHA", "$(rm -rf /)")])), None);
        let t = commit(&env(&[
            ("CI_COMMIT_SHA", "0123456789"),
            ("CI_COMMIT_TAG", "v1"),
        ]))
        .unwrap();
        assert_eq!(
            (t.ref_name.as_deref(), t.ref_type),
            (Some("v1"), Some("tag"))
        );
    }
}
