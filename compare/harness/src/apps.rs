//! The four builds of the service (`compare/service/<key>`).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy)]
pub struct App {
    /// Directory under `compare/service/`; the package and binary are
    /// `compare-<key>`.
    pub key: &'static str,
    /// `(a)` … `(d)`, as in the report.
    pub letter: &'static str,
    pub what: &'static str,
    /// Exports spans (everything but the baseline).
    pub telemetry: bool,
}

pub const APPS: [App; 4] = [
    App {
        key: "none",
        letter: "a",
        what: "no telemetry",
        telemetry: false,
    },
    App {
        key: "hand",
        letter: "b",
        what: "hand-wired opentelemetry-otlp + tracing-opentelemetry, vergen",
        telemetry: true,
    },
    App {
        key: "itotel",
        letter: "c",
        what: "init-tracing-opentelemetry + opentelemetry-resource-detectors",
        telemetry: true,
    },
    App {
        key: "buildtrace",
        letter: "d",
        what: "buildtrace",
        telemetry: true,
    },
];

impl App {
    pub fn label(&self) -> String {
        format!("({}) {}", self.letter, self.key)
    }

    pub fn package(&self) -> String {
        format!("compare-{}", self.key)
    }

    pub fn source_dir(&self, root: &Path) -> PathBuf {
        root.join("compare/service").join(self.key)
    }

    pub fn target_dir(&self, root: &Path) -> PathBuf {
        root.join("target/compare").join(self.key)
    }

    pub fn binary(&self, root: &Path) -> PathBuf {
        self.target_dir(root).join("release").join(self.package())
    }
}

pub fn by_key(key: &str) -> Option<App> {
    APPS.iter().copied().find(|a| a.key == key)
}
