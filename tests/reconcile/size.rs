//! The size of a finished backup, for people: `status.size` (`5.0 MiB`) is written with
//! `status.sizeBytes` and shown by `kubectl get`.

use hwcloud_backup_operator::crd::Phase;

use crate::harness::Harness;
use crate::kinds::Kind;

each_backup_kind!(a_finished_backup_shows_its_size_in_binary_units);
async fn a_finished_backup_shows_its_size_in_binary_units<K: Kind>() {
    let h = Harness::new().await;
    let spec = K::spec(&h, K::INSTANCE).await;
    let path = h.create(K::KIND, K::PLURAL, "sized", spec);
    h.drive::<K>(&path, 50).await;
    let st = h.status(&path);
    assert_eq!(st.phase, Some(Phase::Succeeded));
    let bytes = st.size_bytes.expect("the cloud reports a size") as f64;
    let size = st
        .size
        .clone()
        .expect("a human-readable size next to sizeBytes");
    let (number, unit) = size.split_once(' ').expect("<number> <unit>");
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unit {other} in {size:?}"),
    };
    let shown: f64 = number.parse().unwrap();
    assert!(
        (shown * scale - bytes).abs() <= 0.05 * scale,
        "{size} for {bytes} bytes"
    );
    assert!(shown < 1024.0, "{size}: the largest unit that fits");
}
