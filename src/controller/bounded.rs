//! Length bounds on the text the operator writes into Kubernetes objects.
//!
//! Status messages, the cloud status and event notes quote what the cloud said, and a broken or
//! hostile endpoint may say megabytes. Kubernetes rejects event notes over 1 KB and objects over
//! about 1.5 MB, so an unbounded quote would lose the event or make every status write fail; a
//! bounded one still says what went wrong.

use crate::controller::decide::Decision;
use crate::crd::OperationStatus;

/// Status and condition messages.
pub const MAX_MESSAGE: usize = 1024;
/// `status.cloudStatus`: documented values are single words.
pub const MAX_CLOUD_STATUS: usize = 64;
/// Event notes (the `events.k8s.io/v1` limit).
pub const MAX_NOTE: usize = 1024;

/// `s` cut to at most `max` bytes on a character boundary, ending in `...` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Bounds every free-text field of a status.
pub fn status(s: &mut OperationStatus) {
    if let Some(m) = &mut s.message {
        *m = clip(m, MAX_MESSAGE);
    }
    if let Some(c) = &mut s.cloud_status {
        *c = clip(c, MAX_CLOUD_STATUS);
    }
    for c in &mut s.conditions {
        c.message = clip(&c.message, MAX_MESSAGE);
    }
}

/// Bounds a decision's status and event notes.
pub fn decision(mut d: Decision) -> Decision {
    status(&mut d.status);
    for e in &mut d.events {
        e.note = clip(&e.note, MAX_NOTE);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_char_boundary() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("exactly10!", 10), "exactly10!");
        assert_eq!(clip("0123456789abc", 10), "0123456...");
        // 'é' is two bytes: the cut backs off rather than split it.
        let cut = clip("ééééé", 8);
        assert_eq!(cut, "éé...");
        assert!(cut.len() <= 8);
        for max in 0..12 {
            assert!(clip("ééééééé", max).len() <= max.max(3), "{max}");
        }
    }

    #[test]
    fn status_text_is_bounded() {
        let long = "x".repeat(100_000);
        let mut s = OperationStatus {
            message: Some(long.clone()),
            cloud_status: Some(long.clone()),
            backup_id: Some("b-1".into()),
            conditions: vec![Condition {
                type_: "Ready".into(),
                status: "False".into(),
                reason: "CloudError".into(),
                message: long,
                last_transition_time: Time(jiff::Timestamp::UNIX_EPOCH),
                observed_generation: None,
            }],
            ..OperationStatus::default()
        };
        status(&mut s);
        assert_eq!(s.message.as_ref().map(String::len), Some(MAX_MESSAGE));
        assert_eq!(
            s.cloud_status.as_ref().map(String::len),
            Some(MAX_CLOUD_STATUS)
        );
        assert_eq!(s.conditions[0].message.len(), MAX_MESSAGE);
        assert_eq!(s.backup_id.as_deref(), Some("b-1"));
    }
}
