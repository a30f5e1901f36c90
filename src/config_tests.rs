//! Parsing tests for the CLI: defaults, flags, bad values, env fallbacks (in a child process).
use super::*;
use clap::{CommandFactory, FromArgMatches};

fn run_args(args: &[&str]) -> RunArgs {
    let argv = ["hwcloud-backup-operator", "run"].iter().chain(args);
    match Cli::try_parse_from(argv).unwrap().command {
        Command::Run(a) => a,
        other => panic!("expected run, got {other:?}"),
    }
}

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn run_defaults() {
    let a = run_args(&[]);
    assert!(a.namespaces.is_empty());
    assert_eq!(a.default_credentials_secret, "hwcloud-credentials");
    assert_eq!(a.poll_interval, Duration::from_secs(10));
    assert_eq!(a.poll_max_interval, Duration::from_secs(300));
    assert_eq!(a.concurrency, 8);
    assert_eq!(
        a.metrics_addr,
        "0.0.0.0:8080".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(a.log_format, LogFormat::Text);
    assert_eq!(a.log_level, "info");
    assert!(a.leader_election);
    assert_eq!(a.lease_name(), "hwcloud-backup-operator");
    assert_eq!(a.watch_label_selector, None);
    assert_eq!(a.lease_namespace(), "default");
    assert_eq!(a.pod_name, None);
    assert!(!a.simulate);
    assert_eq!(a.sim_backup_seconds, 20);
    assert_eq!(a.cloud_request_timeout, Duration::from_secs(30));
    assert_eq!(a.cloud_rate_per_second, 10);
    let hosts: Vec<String> = a
        .allowed_endpoint_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        hosts,
        [
            "*.myhuaweicloud.com",
            "*.myhuaweicloud.eu",
            "*.otc.t-systems.com"
        ]
    );
}

#[test]
fn run_flags() {
    let a = run_args(&[
        "--namespaces=team-a, team-b,,",
        "--poll-interval=1h30m",
        "--poll-max-interval",
        "2m",
        "--concurrency=2",
        "--metrics-addr=127.0.0.1:9000",
        "--log-format=json",
        "--log-level=debug,kube=warn",
        "--leader-election=false",
        "--lease-namespace=ops",
        "--pod-namespace=ignored-because-flag-wins",
        "--simulate",
        "--sim-backup-seconds=3",
        "--cloud-request-timeout=500ms",
        "--cloud-rate-per-second=50",
        "--allowed-endpoint-hosts=*.otc.t-systems.com, 127.0.0.1:4567",
    ]);
    assert_eq!(a.watched_namespaces(), vec!["team-a", "team-b"]);
    assert_eq!(a.poll_interval, Duration::from_secs(5400));
    assert_eq!(a.poll_max_interval, Duration::from_secs(120));
    assert_eq!(a.concurrency, 2);
    assert_eq!(a.metrics_addr.port(), 9000);
    assert_eq!(a.log_format, LogFormat::Json);
    assert_eq!(a.log_level, "debug,kube=warn");
    assert!(!a.leader_election);
    assert_eq!(a.lease_namespace(), "ops");
    assert!(a.simulate);
    assert_eq!(a.sim_backup_seconds, 3);
    assert_eq!(a.cloud_request_timeout, Duration::from_millis(500));
    assert_eq!(a.cloud_rate_per_second, 50);
    let hosts: Vec<String> = a
        .allowed_endpoint_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(hosts, ["*.otc.t-systems.com", "127.0.0.1:4567"]);
}

#[test]
fn leader_election_spellings() {
    assert!(run_args(&["--leader-election"]).leader_election);
    assert!(run_args(&["--leader-election=yes"]).leader_election);
    assert!(!run_args(&["--leader-election=0"]).leader_election);
    // A detached value would be silently misread as a positional; it must be an error instead.
    assert!(Cli::try_parse_from(["x", "run", "--leader-election", "false"]).is_err());
}

#[test]
fn lease_namespace_falls_back_to_pod_namespace() {
    assert_eq!(
        run_args(&["--pod-namespace=operators"]).lease_namespace(),
        "operators"
    );
    assert_eq!(run_args(&["--pod-namespace="]).lease_namespace(), "default");
}

#[test]
fn a_selector_without_a_lease_name_gets_a_lease_of_its_own() {
    let plain = run_args(&[]).lease_name();
    let a = run_args(&["--watch-label-selector=backup.hwcloud.dev/shard=a"]);
    let b = run_args(&["--watch-label-selector=backup.hwcloud.dev/shard=b"]);
    let main = run_args(&["--watch-label-selector=!backup.hwcloud.dev/shard"]);
    let names = [plain, a.lease_name(), b.lease_name(), main.lease_name()];
    for (i, n) in names.iter().enumerate() {
        assert!(n.starts_with("hwcloud-backup-operator"), "{n}");
        assert!(!names[..i].contains(n), "{n} shared: {names:?}");
    }
    // The chart names every shard's Lease itself; an explicit name always wins.
    let named = run_args(&[
        "--watch-label-selector=backup.hwcloud.dev/shard=a",
        "--lease-name=hwbk-a",
    ]);
    assert_eq!(named.lease_name(), "hwbk-a");
}

#[test]
fn rejects_bad_values() {
    for bad in [
        &["--poll-interval=0s"][..],
        &["--poll-interval=10"],
        &["--poll-max-interval=-5m"],
        &["--concurrency=0"],
        &["--cloud-rate-per-second=0"],
        &["--log-format=yaml"],
        &["--metrics-addr=localhost"],
        &["--allowed-endpoint-hosts=*"],
        &["--allowed-endpoint-hosts=http://internal"],
        &["--allowed-endpoint-hosts="],
        &["--watch-label-selector="],
        &["--watch-label-selector=tier in gold"],
    ] {
        let argv = ["x", "run"].iter().chain(bad);
        assert!(Cli::try_parse_from(argv).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn crdgen_and_simulate() {
    let Command::Crdgen(c) = Cli::try_parse_from(["x", "crdgen"]).unwrap().command else {
        panic!()
    };
    assert_eq!(c.out_dir, PathBuf::from("crds"));
    let Command::Crdgen(c) = Cli::try_parse_from(["x", "crdgen", "--out-dir", "target/c"])
        .unwrap()
        .command
    else {
        panic!()
    };
    assert_eq!(c.out_dir, PathBuf::from("target/c"));

    let Command::Simulate(s) = Cli::try_parse_from(["x", "simulate"]).unwrap().command else {
        panic!()
    };
    assert_eq!(s.listen, "127.0.0.1:4567".parse::<SocketAddr>().unwrap());
    assert_eq!(s.region, "sim-region-1");
    assert_eq!(s.backup_seconds, 20);
    assert!(s.single_node_instances.is_empty() && s.access_key.is_none());

    let argv = [
        "x",
        "simulate",
        "--listen=127.0.0.1:0",
        "--access-key=AK",
        "--secret-key=SK",
        "--project-id=p1",
        "--username=u",
        "--password=pw",
        "--domain-name=d",
        "--region=eu-de",
        "--backup-seconds=1",
        "--single-node-instance=i-1",
        "--single-node-instance=i-2",
    ];
    let Command::Simulate(s) = Cli::try_parse_from(argv).unwrap().command else {
        panic!()
    };
    assert_eq!(s.listen.port(), 0);
    assert_eq!(
        (
            s.access_key.as_deref(),
            s.secret_key.as_deref(),
            s.project_id.as_deref()
        ),
        (Some("AK"), Some("SK"), Some("p1"))
    );
    assert_eq!(
        (
            s.username.as_deref(),
            s.password.as_deref(),
            s.domain_name.as_deref()
        ),
        (Some("u"), Some("pw"), Some("d"))
    );
    assert_eq!((s.region.as_str(), s.backup_seconds), ("eu-de", 1));
    assert_eq!(s.single_node_instances, vec!["i-1", "i-2"]);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
    assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_duration(" 250ms "), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    assert!(parse_duration("").is_err());
    assert!(parse_duration("ten").is_err());
    assert!(parse_duration("-1s").unwrap_err().contains("negative"));
    assert!(
        parse_positive_duration("0s")
            .unwrap_err()
            .contains("greater than zero")
    );
}

/// Environment variables env fallbacks are read by clap from the process environment, and setting them
/// in-process is `unsafe` (forbidden here). So this test re-runs the test binary with the variables set,
/// asking it to run only [`env_fallbacks_child`], and checks that the child passed.
#[test]
fn env_fallbacks() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "config::tests::env_fallbacks_child",
            "--exact",
            "--ignored",
            "--test-threads=1",
        ])
        .env("HWBK_NAMESPACES", "a,b")
        .env("HWBK_DEFAULT_CREDENTIALS_SECRET", "creds")
        .env("HWBK_POLL_INTERVAL", "3s")
        .env("HWBK_POLL_MAX_INTERVAL", "1h")
        .env("HWBK_CONCURRENCY", "3")
        .env("HWBK_METRICS_ADDR", "127.0.0.1:9100")
        .env("HWBK_LOG_FORMAT", "json")
        .env("HWBK_LOG_LEVEL", "warn")
        .env("HWBK_LEADER_ELECTION", "false")
        .env("HWBK_LEASE_NAME", "lease-x")
        .env("HWBK_WATCH_LABEL_SELECTOR", "backup.hwcloud.dev/shard == a")
        .env_remove("HWBK_LEASE_NAMESPACE")
        .env("POD_NAMESPACE", "ops")
        .env("POD_NAME", "op-0")
        .env("HWBK_SIMULATE", "true")
        .env("HWBK_SIM_BACKUP_SECONDS", "4")
        .env("HWBK_CLOUD_REQUEST_TIMEOUT", "7s")
        .env("HWBK_CLOUD_RATE_PER_SECOND", "5")
        .env("HWBK_SIM_SINGLE_NODE_INSTANCES", "i-1,i-2")
        .env("HWBK_ALLOWED_ENDPOINT_HOSTS", "*.example.com,localhost")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Guard against the filter matching nothing, which would also exit 0.
    assert!(stdout.contains("1 passed"), "child did not run:\n{stdout}");
}

#[test]
#[ignore = "run by env_fallbacks in a child process with HWBK_* set"]
fn env_fallbacks_child() {
    let a = run_args(&[]);
    assert_eq!(a.watched_namespaces(), vec!["a", "b"]);
    assert_eq!(a.default_credentials_secret, "creds");
    assert_eq!(a.poll_interval, Duration::from_secs(3));
    assert_eq!(a.poll_max_interval, Duration::from_secs(3600));
    assert_eq!(a.concurrency, 3);
    assert_eq!(a.metrics_addr.port(), 9100);
    assert_eq!(a.log_format, LogFormat::Json);
    assert_eq!(a.log_level, "warn");
    assert!(!a.leader_election);
    assert_eq!(a.lease_name(), "lease-x");
    assert_eq!(
        a.watch_label_selector.as_ref().map(|s| s.as_str()),
        Some("backup.hwcloud.dev/shard=a")
    );
    assert_eq!(a.lease_namespace(), "ops");
    assert_eq!(a.pod_name.as_deref(), Some("op-0"));
    assert!(a.simulate);
    assert_eq!(a.sim_backup_seconds, 4);
    assert_eq!(a.cloud_request_timeout, Duration::from_secs(7));
    assert_eq!(a.cloud_rate_per_second, 5);
    let hosts: Vec<String> = a
        .allowed_endpoint_hosts
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(hosts, ["*.example.com", "localhost"]);
    // A flag on the command line beats its environment variable.
    assert_eq!(run_args(&["--concurrency=9"]).concurrency, 9);

    let m = Cli::command().get_matches_from(["x", "simulate"]);
    let Command::Simulate(s) = Cli::from_arg_matches(&m).unwrap().command else {
        panic!()
    };
    assert_eq!(s.single_node_instances, vec!["i-1", "i-2"]);
}
