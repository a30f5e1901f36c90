//! Logging setup: tracing-subscriber with JSON or text lines and an EnvFilter taken from the configuration.
use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::{EnvFilter, fmt::MakeWriter, layer::SubscriberExt, registry::LookupSpan};

use crate::config::LogFormat;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log level {level:?}: {source}")]
    InvalidLevel {
        level: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[source] tracing::subscriber::SetGlobalDefaultError),
}

impl TelemetryError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::InvalidLevel { .. } => "InvalidLogLevel",
            Self::AlreadyInstalled(_) => "SubscriberInstalled",
        }
    }
}

/// Parses an EnvFilter directive string such as `info` or `info,kube=warn,hwcloud_backup_operator=debug`.
pub fn filter(level: &str) -> Result<EnvFilter, TelemetryError> {
    EnvFilter::try_new(level).map_err(|source| TelemetryError::InvalidLevel {
        level: level.to_owned(),
        source,
    })
}

/// Builds the subscriber writing to `writer`; split from [`init`] so that tests can capture the output.
/// `ansi` colours text lines (JSON lines never are).
pub fn subscriber<W>(
    format: LogFormat,
    level: &str,
    writer: W,
    ansi: bool,
) -> Result<Box<dyn Subscriber + Send + Sync>, TelemetryError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(filter(level)?);
    Ok(match format {
        LogFormat::Json => Box::new(registry.with(json_layer(writer))),
        LogFormat::Text => Box::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(writer),
            ),
        ),
    })
}

fn json_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    // Flattened events and the current span make each line self-contained for log search.
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// Installs the global subscriber writing to stdout. Call once, before anything logs.
pub fn init(format: LogFormat, level: &str) -> Result<(), TelemetryError> {
    // Colours only when a person is watching; log collectors get plain text.
    let sub = subscriber(
        format,
        level,
        std::io::stdout,
        std::io::stdout().is_terminal(),
    )?;
    tracing::subscriber::set_global_default(sub).map_err(TelemetryError::AlreadyInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn capture(format: LogFormat, level: &str) -> String {
        let buf = Buf::default();
        let sub = subscriber(format, level, buf.clone(), false).unwrap();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(backup_id = "b-1", "backup created");
            tracing::debug!("hidden at info");
        });
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn json_lines_carry_fields() {
        let out = capture(LogFormat::Json, "info");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["message"], "backup created");
        assert_eq!(v["backup_id"], "b-1");
    }

    #[test]
    fn text_lines_and_level_filter() {
        let out = capture(LogFormat::Text, "info");
        assert!(
            out.contains("backup created") && out.contains("backup_id=\"b-1\""),
            "{out}"
        );
        assert!(!out.contains("hidden at info"));
        assert!(capture(LogFormat::Text, "debug").contains("hidden at info"));
        assert!(capture(LogFormat::Text, "warn").is_empty());
    }

    #[test]
    fn bad_level_is_an_error() {
        let err = filter("info,kube=loud").unwrap_err();
        assert_eq!(err.reason(), "InvalidLogLevel");
        assert!(err.to_string().contains("kube=loud"));
    }
}
