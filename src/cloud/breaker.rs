//! The per-account circuit breaker for rejected credentials.
//!
//! The cloud locks an AK/SK after five refused signatures in a row (and IAM a user after refused
//! logins), which locks out every other system that uses the key too. Per-resource backoffs cannot
//! prevent that: ten resources sharing one bad Secret would each try once per backoff. So every
//! exchange that tests an account's credentials (a signed call, an IAM login) passes this breaker:
//!
//! - **Untested** (a new account, or the backoff has passed): one exchange at a time tests the
//!   credentials; concurrent callers wait for its outcome instead of sending their own.
//! - **Closed** (the credentials worked): exchanges go out concurrently.
//! - **Open** (the cloud refused them): nothing goes out before the backoff has passed; callers
//!   fail at once with an `Auth` error that says until when. The backoff starts at the policy's
//!   base and doubles with every refusal in a row, up to its cap, so the fifth refusal in a row
//!   comes only after 1 + 2 + 4 + 8 bases (15 minutes at the default minute).
//!
//! Any accepted exchange closes the breaker and resets the backoff; so does a service's refusal of
//! another kind (busy, not found: the gateway authenticated the request). Other failures (5xx,
//! 429, network) say nothing about the credentials and change nothing: while they last, untested
//! credentials are still tested one exchange at a time. A changed Secret is a new account with a
//! fresh client and breaker, so a fixed Secret is tried at once.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::error::{Error, ErrorClass};

/// How long an account with refused credentials is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// The wait after the first refusal.
    pub base: Duration,
    /// The longest wait, however many refusals in a row.
    pub max: Duration,
}

impl Default for BreakerPolicy {
    /// A minute (the operator's auth backoff), doubling up to 15 minutes.
    fn default() -> Self {
        Self {
            base: Duration::from_secs(60),
            max: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone)]
enum State {
    /// The next exchange tests the credentials; `last` is the backoff of the refusal before, if any.
    Untested {
        last: Option<Duration>,
    },
    Closed,
    Open {
        until: Instant,
        /// `until` as wall-clock time, whole seconds: the message stays the same while it is open.
        retry_at: Timestamp,
        backoff: Duration,
        /// What the cloud said, without the request id.
        cause: String,
    },
}

/// The breaker of one account.
#[derive(Debug)]
pub struct Breaker {
    policy: BreakerPolicy,
    state: Mutex<State>,
    /// Held by the exchange that tests untested credentials.
    testing: tokio::sync::Mutex<()>,
}

/// Leave to send one exchange; [`Permit::settle`] reports its outcome.
pub struct Permit<'a> {
    breaker: &'a Breaker,
    /// Present when this exchange tests the credentials alone.
    _testing: Option<tokio::sync::MutexGuard<'a, ()>>,
}

/// Whether an error is the cloud refusing the credentials (not a local or transient failure).
fn is_refusal(e: &Error) -> bool {
    match e {
        Error::Api { .. } => e.class() == ErrorClass::Auth,
        Error::Auth(_) => true,
        _ => false,
    }
}

/// Whether an error is a service's answer to a request the gateway authenticated: a 4xx other
/// than an auth refusal or a throttle (busy instance, not found, quota, invalid name).
fn is_accepted(e: &Error) -> bool {
    match e {
        Error::Api { status, .. } => {
            (400..500).contains(status) && *status != 429 && e.class() != ErrorClass::Auth
        }
        _ => false,
    }
}

impl Breaker {
    pub fn new(policy: BreakerPolicy) -> Self {
        Self {
            policy,
            state: Mutex::new(State::Untested { last: None }),
            testing: tokio::sync::Mutex::new(()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leave to send, or the `Auth` error of an open breaker. Waits while another exchange tests
    /// untested credentials (at most that one exchange).
    pub async fn admit(&self) -> Result<Permit<'_>, Error> {
        if self.check()? {
            return Ok(self.permit(None));
        }
        let testing = self.testing.lock().await;
        // The exchange waited for may have settled it either way.
        if self.check()? {
            return Ok(self.permit(None));
        }
        Ok(self.permit(Some(testing)))
    }

    /// `Ok(true)`: closed, go; `Ok(false)`: the credentials need testing; `Err`: open.
    fn check(&self) -> Result<bool, Error> {
        let mut state = self.state();
        match &*state {
            State::Closed => Ok(true),
            State::Untested { .. } => Ok(false),
            State::Open {
                until,
                retry_at,
                backoff,
                cause,
            } => {
                if Instant::now() < *until {
                    return Err(Error::Auth(format!(
                        "{cause}; no request is sent with these credentials before {retry_at} \
                         (backoff {}s after refusals in a row; a changed Secret is tried at once)",
                        backoff.as_secs()
                    )));
                }
                *state = State::Untested {
                    last: Some(*backoff),
                };
                Ok(false)
            }
        }
    }

    fn permit<'a>(&'a self, testing: Option<tokio::sync::MutexGuard<'a, ()>>) -> Permit<'a> {
        Permit {
            breaker: self,
            _testing: testing,
        }
    }

    /// Opens the breaker after a refusal; a refusal that arrives while it is already open (a call
    /// that was in flight before) does not extend it.
    fn refused(&self, e: &Error) {
        let mut state = self.state();
        let backoff = match &*state {
            State::Open { .. } => return,
            State::Closed | State::Untested { last: None } => self.policy.base,
            State::Untested { last: Some(last) } => (*last * 2).min(self.policy.max),
        };
        let backoff = backoff.max(self.policy.base.min(self.policy.max));
        let retry_at = Timestamp::now()
            .checked_add(backoff)
            .unwrap_or(Timestamp::MAX)
            .round(jiff::Unit::Second)
            .unwrap_or(Timestamp::MAX);
        let cause = e.summary();
        tracing::warn!(
            error = %e,
            code = e.code().unwrap_or_default(),
            request_id = e.request_id().unwrap_or_default(),
            backoff_s = backoff.as_secs(),
            %retry_at,
            "the cloud refused the account's credentials; no request is sent with them until the backoff has passed"
        );
        *state = State::Open {
            until: Instant::now() + backoff,
            retry_at,
            backoff,
            cause,
        };
    }

    /// Whether nothing may be sent now (for tests and metrics).
    pub fn is_open(&self) -> bool {
        matches!(&*self.state(), State::Open { until, .. } if Instant::now() < *until)
    }
}

impl Permit<'_> {
    /// Reports how the exchange went: a refusal opens the breaker, an accepted exchange closes it.
    pub fn settle<T>(self, result: &Result<T, Error>) {
        match result {
            Ok(_) => *self.breaker.state() = State::Closed,
            Err(e) if is_refusal(e) => self.breaker.refused(e),
            Err(e) if is_accepted(e) => *self.breaker.state() = State::Closed,
            // A 5xx, a 429 or a cut connection says nothing about the credentials (the gateway
            // may answer before it checks them): the next exchange tests them again (a permit
            // dropped unsettled does the same).
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal() -> Error {
        Error::Api {
            service: "dcs",
            operation: "list_backups",
            status: 401,
            code: "APIGW.0301".into(),
            message: "Incorrect IAM authentication information".into(),
            request_id: Some("req-1".into()),
        }
    }

    fn policy(ms: u64) -> BreakerPolicy {
        BreakerPolicy {
            base: Duration::from_millis(ms),
            max: Duration::from_millis(ms * 4),
        }
    }

    async fn try_once(b: &Breaker, outcome: Result<(), Error>) -> Result<(), Error> {
        let permit = b.admit().await?;
        permit.settle(&outcome);
        outcome
    }

    #[tokio::test]
    async fn a_refusal_opens_it_and_callers_fail_fast_saying_until_when() {
        let b = Breaker::new(policy(10_000));
        assert!(try_once(&b, Err(refusal())).await.is_err());
        assert!(b.is_open());
        let e = b.admit().await.err().expect("open");
        assert_eq!(e.class(), ErrorClass::Auth);
        let text = e.to_string();
        assert!(text.contains("APIGW.0301"), "{text}");
        assert!(text.contains("no request is sent"), "{text}");
        assert!(!text.contains("req-1"), "no request id: {text}");
        let again = b.admit().await.err().expect("still open").to_string();
        assert_eq!(text, again, "the message is stable while open");
    }

    #[tokio::test]
    async fn refusals_in_a_row_double_the_backoff_up_to_the_cap_and_a_success_resets_it() {
        let b = Breaker::new(policy(20));
        let mut waits = Vec::new();
        for _ in 0..4 {
            assert!(try_once(&b, Err(refusal())).await.is_err());
            let opened = Instant::now();
            while b.is_open() {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            waits.push(opened.elapsed().as_millis() / 20);
        }
        assert_eq!(waits, vec![1, 2, 4, 4], "20 ms doubling, capped at 80 ms");
        assert!(try_once(&b, Ok(())).await.is_ok());
        assert!(!b.is_open());
        assert!(try_once(&b, Err(refusal())).await.is_err());
        let opened = Instant::now();
        while b.is_open() {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert_eq!(opened.elapsed().as_millis() / 20, 1, "reset by the success");
    }

    #[tokio::test]
    async fn a_service_answer_proves_the_credentials() {
        let b = Breaker::new(policy(10_000));
        let busy = Error::Api {
            service: "dcs",
            operation: "create_backup",
            status: 400,
            code: "DCS.4096".into(),
            message: "busy".into(),
            request_id: None,
        };
        let first = b.admit().await.expect("the tester");
        first.settle::<()>(&Err(busy));
        // Closed: exchanges go out concurrently again.
        let a = b.admit().await.expect("closed");
        let c = tokio::time::timeout(Duration::from_secs(1), b.admit())
            .await
            .expect("not waiting for a tester")
            .expect("closed");
        drop((a, c));
    }

    #[tokio::test]
    async fn other_failures_leave_it_untested_or_closed() {
        let b = Breaker::new(policy(10_000));
        let e500 = Error::Api {
            service: "dcs",
            operation: "x",
            status: 500,
            code: String::new(),
            message: "oops".into(),
            request_id: None,
        };
        assert!(try_once(&b, Err(e500)).await.is_err());
        assert!(!b.is_open());
        let config = Error::Config("bad endpoint".into());
        assert!(try_once(&b, Err(config)).await.is_err());
        assert!(!b.is_open(), "a local problem is not a refusal");
        assert!(try_once(&b, Ok(())).await.is_ok());
    }

    #[tokio::test]
    async fn untested_credentials_are_tested_by_one_exchange_at_a_time() {
        let b = std::sync::Arc::new(Breaker::new(policy(10_000)));
        let first = b.admit().await.expect("the tester");
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.admit().await.map(|_| ()) }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiter.is_finished(), "waits for the test's outcome");
        first.settle::<()>(&Err(refusal()));
        let e = waiter.await.unwrap().unwrap_err();
        assert_eq!(e.class(), ErrorClass::Auth, "the refusal answers it: {e}");
    }

    #[test]
    fn the_default_is_a_minute_doubling_to_fifteen() {
        let p = BreakerPolicy::default();
        assert_eq!((p.base.as_secs(), p.max.as_secs()), (60, 900));
    }

    #[tokio::test]
    async fn once_closed_exchanges_go_out_concurrently() {
        let b = Breaker::new(policy(10_000));
        assert!(try_once(&b, Ok(())).await.is_ok());
        let a = b.admit().await.expect("closed");
        let c = b.admit().await.expect("closed, concurrently");
        a.settle::<()>(&Ok(()));
        c.settle::<()>(&Ok(()));
    }
}
