//! Tests of the operator wiring: options, settings and the servers it starts.

use std::time::Duration;

use clap::Parser;

use super::*;
use crate::config::{Cli, Command};
use crate::controller::schedule::next_delay;

fn run_args(flags: &[&str]) -> RunArgs {
    let argv = ["hwcloud-backup-operator", "run"].iter().chain(flags);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Run(args) => args,
        other => panic!("{other:?}"),
    }
}

#[test]
fn settings_take_the_poll_flags() {
    let s = settings(&run_args(&[
        "--poll-interval=20s",
        "--poll-max-interval=10m",
        "--default-credentials-secret=creds",
    ]));
    assert_eq!(s.poll.interval, Duration::from_secs(20));
    assert_eq!(s.poll.max_interval, Duration::from_secs(600));
    assert_eq!(s.poll.min_interval, PollPolicy::default().min_interval);
    assert_eq!(s.default_credentials_secret, "creds");
    assert_eq!(s.adopt_window, Duration::from_secs(60));
    let slow = settings(&run_args(&["--cloud-request-timeout=45s"]));
    assert_eq!(
        slow.adopt_window,
        Duration::from_secs(90),
        "outlasts two request timeouts"
    );
}

#[test]
fn simulate_allows_exactly_the_simulator_address() {
    let args = run_args(&[]);
    use crate::cloud::account::{Credentials, EndpointOverrides};
    let sim = |svc: &str| Some(format!("http://127.0.0.1:4567/{svc}"));
    let account = Account {
        credentials: Credentials::AkSk {
            access_key: "ak".into(),
            secret_key: "sk".into(),
            security_token: None,
        },
        region: "sim-region-1".into(),
        project_id: None,
        cloud: Default::default(),
        endpoints: EndpointOverrides {
            iam: sim("iam"),
            dcs: sim("dcs"),
            dds: sim("dds"),
            taurus: sim("taurus"),
        },
        dcs_api_version: Default::default(),
    };
    let hosts = allowed_hosts(&args, Some(&account));
    let ok = |u: &str| hosts.check(&Url::parse(u).unwrap()).is_ok();
    assert!(ok("http://127.0.0.1:4567/dcs/v2"));
    assert!(
        !ok("http://127.0.0.1:4568/dcs/v2"),
        "only the simulator's port"
    );
    assert!(
        ok("https://dcs.eu-de.otc.t-systems.com"),
        "the flag still applies"
    );
    let plain = allowed_hosts(&args, None);
    assert!(
        plain
            .check(&Url::parse("http://127.0.0.1:4567").unwrap())
            .is_err()
    );
}

#[test]
fn every_watch_asks_for_the_selector_of_the_flag() {
    let opts = run_options(&run_args(&[
        "--watch-label-selector=backup.hwcloud.dev/shard==a",
    ]));
    assert_eq!(
        opts.watcher_config().label_selector.as_deref(),
        Some("backup.hwcloud.dev/shard=a")
    );
    assert_eq!(
        opts.watcher_config_with("backup.hwcloud.dev/schedule")
            .label_selector
            .as_deref(),
        Some("backup.hwcloud.dev/schedule,backup.hwcloud.dev/shard=a")
    );
    let all = run_options(&run_args(&[]));
    assert_eq!(all.watcher_config().label_selector, None);
    assert_eq!(
        all.watcher_config_with("backup.hwcloud.dev/schedule")
            .label_selector
            .as_deref(),
        Some("backup.hwcloud.dev/schedule")
    );
}

#[test]
fn poll_bounds_stay_ordered_for_any_flags() {
    for (interval, max) in [("1s", "1s"), ("500ms", "1s"), ("10s", "1s"), ("1s", "5s")] {
        let s = settings(&run_args(&[
            &format!("--poll-interval={interval}"),
            &format!("--poll-max-interval={max}"),
        ]));
        let p = s.poll;
        assert!(
            p.min_interval <= p.interval && p.interval <= p.max_interval,
            "{interval}/{max}: {p:?}"
        );
        // Every branch of the schedule clamps; none may panic.
        for elapsed in [0, 1, 100] {
            let wait = next_delay(
                &p,
                Some(Duration::from_secs(30)),
                Duration::from_secs(elapsed),
                Some(50.0),
            );
            assert!(wait <= p.max_interval);
            let wait = next_delay(&p, None, Duration::from_secs(elapsed), None);
            assert!(wait >= p.min_interval);
        }
    }
}
