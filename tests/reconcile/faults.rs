//! A cloud that throttles or fails every call for a while: resources wait (Throttled or
//! CloudError), never fail, and end with exactly one cloud object once the cloud recovers.

use std::time::{Duration, Instant};

use hwcloud_backup_operator::crd::Phase;
use hwcloud_backup_operator::sim::Faults;

use crate::common::{accepted_calls, reason, requeue};
use crate::harness::Harness;
use crate::kinds::Kind;

/// Every call answered 429 or 500.
fn errors() -> Faults {
    Faults {
        error_rate: 1.0,
        ..Faults::default()
    }
}

/// Reconciles `path` for `period` under `faults`; checks it never fails and says why it waits.
async fn ride_out_faults<K: Kind>(h: &Harness, path: &str, faults: Faults, period: Duration) {
    h.sim.set_faults(faults);
    let until = Instant::now() + period;
    let mut steps = 0;
    while Instant::now() < until {
        let next = h.step::<K>(path).await;
        let st = h.status(path);
        assert_ne!(st.phase, Some(Phase::Failed), "{st:#?}");
        assert!(
            ["Throttled", "CloudError"].contains(&reason(&st).as_str()),
            "{st:#?}"
        );
        assert!(next.is_some(), "comes back after errors");
        steps += 1;
        requeue(next).await;
    }
    assert!(steps >= 2, "the faults lasted several reconciles");
    h.sim.set_faults(Faults::default());
}

each_kind!(throttled_before_the_create);
async fn throttled_before_the_create<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(
        K::KIND,
        K::PLURAL,
        "throttled",
        K::spec(&h, K::INSTANCE).await,
    );
    ride_out_faults::<K>(&h, &path, errors(), Duration::from_millis(600)).await;
    assert!(K::made(&h, K::INSTANCE).is_empty(), "no call got through");

    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    let made = K::made(&h, K::INSTANCE);
    assert_eq!(made.len(), 1, "exactly one cloud object: {made:?}");
    assert_eq!(accepted_calls(&h, K::CREATE), 1);
    assert_eq!(K::op_id(&h.status(&path)), Some(made[0].id.clone()));
}

each_kind!(throttled_while_running);
async fn throttled_while_running<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "polled", K::spec(&h, K::INSTANCE).await);
    let next = h.step::<K>(&path).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Running));
    // The cloud is next asked when the schedule says so; the faults meet that poll.
    requeue(next).await;
    ride_out_faults::<K>(&h, &path, errors(), Duration::from_millis(600)).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Running));

    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
    assert_eq!(h.cloud_calls(K::CREATE), 1);
}

each_kind!(dropped_connections_before_the_create);
/// Cut connections leave a create's fate unknown: the marker stays, the operator looks before it
/// creates again, and exactly one object exists in the end.
async fn dropped_connections_before_the_create<K: Kind>() {
    let h = Harness::new().await;
    let path = h.create(K::KIND, K::PLURAL, "cut", K::spec(&h, K::INSTANCE).await);
    let drops = Faults {
        drop_rate: 1.0,
        ..Faults::default()
    };
    ride_out_faults::<K>(&h, &path, drops, Duration::from_millis(400)).await;
    assert!(K::made(&h, K::INSTANCE).is_empty());

    h.drive::<K>(&path, 50).await;
    assert_eq!(h.status(&path).phase, Some(Phase::Succeeded));
    assert_eq!(K::made(&h, K::INSTANCE).len(), 1);
    assert_eq!(accepted_calls(&h, K::CREATE), 1);
}
