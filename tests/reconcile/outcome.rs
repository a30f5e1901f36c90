//! How a running operation ends: success, a failure the cloud reports, or the spec's timeout, which
//! is decided on a fresh answer from the cloud. Terminal resources never call the cloud again.

use std::time::Duration;

use hwcloud_backup_operator::crd::Phase;
use jiff::{SignedDuration, Timestamp};

use crate::common::{
    assert_quiet, assert_state, drive_phases, events_for, poll_calls, ready, sleep_until,
};
use crate::harness::Harness;
use crate::kinds::Kind;

each_kind!(running_to_succeeded);
async fn running_to_succeeded<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "ok", K::spec(&h, K::INSTANCE).await);
    let phases = drive_phases::<K>(&h, &path).await;
    assert_eq!(phases.first(), Some(&Phase::Running), "{phases:?}");
    assert_eq!(phases.last(), Some(&Phase::Succeeded), "{phases:?}");

    let st = h.status(&path);
    assert_eq!(ready(&st), ("True".into(), "Succeeded".into()));
    assert!(
        st.started_at.is_some() && st.completed_at.is_some(),
        "{st:#?}"
    );
    assert_eq!(st.progress, Some(100.0));
    assert!(st.create_requested_at.is_none());
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].status, K::DONE);
    assert_eq!(K::op_id(&st), Some(made[0].id.clone()));
    assert_eq!(
        events_for(&h, "ok"),
        vec![
            format!("{}Started", K::NOUN),
            format!("{}Succeeded", K::NOUN)
        ]
    );
    assert_eq!(h.cloud_calls(K::CREATE), 1);
    assert_quiet::<K>(&h, &path).await;
}

each_backup_kind!(running_to_failed);
/// A restore cannot have this scenario: the simulator fails every operation of a failing
/// instance, so no backup of it is ever restorable.
async fn running_to_failed<K: Kind>() {
    let h = Harness::new().await;
    let failing = h.sim.config().failing_instances[0].clone();
    let path = h.create(K::KIND, K::PLURAL, "doomed", K::spec(&h, &failing).await);
    let phases = drive_phases::<K>(&h, &path).await;
    assert_eq!(phases.first(), Some(&Phase::Running), "{phases:?}");

    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "CloudError");
    assert!(st.completed_at.is_some());
    let message = st.message.clone().unwrap_or_default();
    assert!(
        message.to_lowercase().contains("failed"),
        "says what the cloud reported: {message}"
    );
    assert_eq!(
        events_for(&h, "doomed"),
        vec![format!("{}Started", K::NOUN), format!("{}Failed", K::NOUN)]
    );
    assert_eq!(h.cloud_calls(K::CREATE), 1);
    assert_quiet::<K>(&h, &path).await;
}

each_kind!(timeout_is_decided_on_a_poll_after_the_deadline);
/// `timeout: 1s` against a 5 s operation. The operator polls shortly before the deadline, then
/// follows its own requeues; the poll that declares the timeout must be a real cloud call made at
/// or after the deadline, not an answer remembered from before it.
async fn timeout_is_decided_on_a_poll_after_the_deadline<K: Kind>() {
    let h = Harness::new().await;
    let mut spec = K::spec(&h, K::INSTANCE).await;
    spec["timeout"] = "1s".into();
    h.sim.set_backup_duration(Duration::from_secs(5));
    let path = h.create(K::KIND, K::PLURAL, "slowpoke", spec);
    h.step::<K>(&path).await;
    let st = h.status(&path);
    assert_state(&st, Phase::Running, "InProgress");
    let deadline = st.started_at.clone().unwrap().0 + SignedDuration::from_secs(1);

    sleep_until(deadline - SignedDuration::from_millis(30)).await;
    let mut steps = Vec::new();
    for _ in 0..20 {
        let at = Timestamp::now();
        let polls = poll_calls(&h);
        let next = h.step::<K>(&path).await;
        steps.push((at, poll_calls(&h) > polls, Timestamp::now()));
        if h.status(&path).is_terminal() {
            break;
        }
        tokio::time::sleep(next.expect("running resources are requeued")).await;
    }

    let st = h.status(&path);
    assert_state(&st, Phase::Failed, "Timeout");
    let (at, polled, _) = *steps.last().unwrap();
    // The deciding answer is this step's own poll, or (on a loaded machine, where the previous
    // step's list call itself ran past the deadline) a shared DCS list from a step that ended after it.
    let answered_after_deadline = polled
        || steps
            .iter()
            .rev()
            .skip(1)
            .find(|(_, p, _)| *p)
            .is_some_and(|(_, _, ended)| *ended >= deadline);
    assert!(
        answered_after_deadline,
        "the timeout was decided without asking the cloud: {steps:?}"
    );
    assert!(
        at >= deadline,
        "decided at {at}, before the deadline {deadline}"
    );
    assert!(
        K::made(&h, K::INSTANCE)[0].status != K::DONE,
        "the cloud operation still runs"
    );
    assert_eq!(
        events_for(&h, "slowpoke"),
        vec![format!("{}Started", K::NOUN), "Timeout".into()]
    );
    assert_quiet::<K>(&h, &path).await;
}
