//! One `CloudClient` per distinct account: it owns the account's token cache, project id and rate
//! limiter, and authenticates every call it sends.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use url::Url;

use super::account::{Account, Credentials};
use super::auth::AkSkSigner;
use super::breaker::{Breaker, BreakerPolicy};
use super::client_cache::{CacheLimits, ClientCache};
use super::dcs::Dcs;
use super::dds::Dds;
use super::endpoints::{Service, base_url, join};
use super::error::Error;
use super::project::lookup_project_id;
use super::rate_limit::{Limiter, limiter};
use super::taurus::Taurus;
use super::token::{IamToken, PasswordLogin, Scope, TokenCache, request_token};
use super::transport::{CallObserver, Credential, Reply, Request, Transport, TransportConfig};

/// The cache of per-account clients, sharing one HTTP transport (see [`ClientCache`]).
pub struct CloudClients {
    transport: Arc<Transport>,
    clients: Mutex<ClientCache<Account, CloudClient>>,
    breaker: BreakerPolicy,
}

impl fmt::Debug for CloudClients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudClients")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl CloudClients {
    /// Clients cached with the default [`CacheLimits`].
    pub fn new(cfg: TransportConfig, observer: Option<Arc<dyn CallObserver>>) -> Self {
        Self::with_limits(cfg, observer, CacheLimits::default())
    }

    pub fn with_limits(
        cfg: TransportConfig,
        observer: Option<Arc<dyn CallObserver>>,
        limits: CacheLimits,
    ) -> Self {
        Self {
            transport: Arc::new(Transport::new(cfg, observer)),
            clients: Mutex::new(ClientCache::new(limits)),
            breaker: BreakerPolicy::default(),
        }
    }

    /// Sets how long an account whose credentials the cloud refused is left alone (see
    /// [`super::breaker`]); clients made from now on use it.
    pub fn with_breaker(mut self, policy: BreakerPolicy) -> Self {
        self.breaker = policy;
        self
    }

    /// The client of `account`, created on first use. A changed Secret is a different account,
    /// so rotated credentials get a fresh token cache and project lookup.
    pub fn client(&self, account: &Account) -> Arc<CloudClient> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients.get_or_insert_with(account, Instant::now(), || {
            CloudClient::new(account.clone(), self.transport.clone(), self.breaker)
        })
    }

    /// How many clients the cache holds (at most its capacity).
    pub fn cached(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl super::client_cache::Keep for CloudClient {
    /// An account whose breaker is open must keep its breaker (see [`super::client_cache`]).
    fn keep(&self) -> bool {
        self.is_refused()
    }
}

/// Authenticated access to the services of one account.
pub struct CloudClient {
    account: Account,
    transport: Arc<Transport>,
    limiter: Option<Limiter>,
    tokens: TokenCache,
    project_id: tokio::sync::OnceCell<String>,
    /// Every exchange that tests the credentials (signed calls, IAM logins) passes it.
    breaker: Breaker,
}

impl fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Account's Debug redacts the credentials.
        f.debug_struct("CloudClient")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl CloudClient {
    fn new(account: Account, transport: Arc<Transport>, breaker: BreakerPolicy) -> Self {
        Self {
            limiter: limiter(transport.config()),
            account,
            transport,
            tokens: TokenCache::default(),
            project_id: tokio::sync::OnceCell::new(),
            breaker: Breaker::new(breaker),
        }
    }

    /// Whether the account's breaker is open: its credentials were refused and nothing is sent
    /// with them until the backoff has passed.
    pub fn is_refused(&self) -> bool {
        self.breaker.is_open()
    }

    /// Runs one exchange that tests the credentials through the account's breaker: not at all
    /// while it is open, alone while they are untested.
    async fn tested<T>(
        &self,
        exchange: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let permit = self.breaker.admit().await?;
        let result = exchange.await;
        permit.settle(&result);
        result
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn dcs(&self) -> Dcs<'_> {
        Dcs::new(self)
    }

    pub fn dds(&self) -> Dds<'_> {
        Dds::new(self)
    }

    pub fn taurus(&self) -> Taurus<'_> {
        Taurus::new(self)
    }

    /// The account's project id: as configured, else from IAM (token body or project lookup by
    /// region name), looked up once and cached.
    pub async fn project_id(&self) -> Result<String, Error> {
        if let Some(pid) = &self.account.project_id {
            return Ok(pid.clone());
        }
        self.project_id
            .get_or_try_init(|| async {
                match &self.account.credentials {
                    Credentials::AkSk {
                        access_key,
                        secret_key,
                        security_token,
                    } => {
                        let signer = AkSkSigner {
                            access_key,
                            secret_key,
                            security_token: security_token.as_deref(),
                            project_id: None,
                        };
                        let iam = base_url(&self.account, Service::Iam)?;
                        self.tested(lookup_project_id(
                            &self.transport,
                            self.limiter.as_ref(),
                            &iam,
                            signer,
                            &self.account.region,
                        ))
                        .await
                    }
                    Credentials::Password { .. } => {
                        self.token().await?.project_id.clone().ok_or_else(|| {
                            super::wire::missing("iam", "create_token", "token.project.id")
                        })
                    }
                }
            })
            .await
            .cloned()
    }

    /// The full URL of `segments` under the base URL of `service`.
    pub(crate) fn url(&self, service: Service, segments: &[&str]) -> Result<Url, Error> {
        join(&base_url(&self.account, service)?, segments)
    }

    /// Sends a service call authenticated as this account.
    pub(crate) async fn send<T>(
        &self,
        req: Request,
        decode: impl Fn(&Reply) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let limiter = self.limiter.as_ref();
        match &self.account.credentials {
            Credentials::AkSk {
                access_key,
                secret_key,
                security_token,
            } => {
                let pid = self.project_id().await?;
                let signer = AkSkSigner {
                    access_key,
                    secret_key,
                    security_token: security_token.as_deref(),
                    project_id: Some(&pid),
                };
                self.tested(
                    self.transport
                        .send(limiter, &req, &Credential::Signed(signer), decode),
                )
                .await
            }
            // A service refusing a token only drops the token; the login that follows tests
            // the password through the breaker.
            Credentials::Password { .. } => {
                let token = self.token().await?;
                let result = self
                    .transport
                    .send(limiter, &req, &Credential::Token(token.value()), decode)
                    .await;
                if matches!(result, Err(Error::Api { status: 401, .. })) {
                    self.tokens.invalidate(&token).await;
                }
                result
            }
        }
    }

    /// The cached IAM token, logging in when there is none or it is due for refresh.
    async fn token(&self) -> Result<Arc<IamToken>, Error> {
        let Credentials::Password {
            username,
            password,
            domain_name,
        } = &self.account.credentials
        else {
            return Err(Error::Config("account has no IAM password".into()));
        };
        let scope = match &self.account.project_id {
            Some(id) => Scope::ProjectId(id),
            None => Scope::ProjectName(&self.account.region),
        };
        let login = PasswordLogin {
            username,
            password,
            domain_name,
            scope,
        };
        let iam = base_url(&self.account, Service::Iam)?;
        self.tokens
            .get(|| {
                self.tested(request_token(
                    &self.transport,
                    self.limiter.as_ref(),
                    &iam,
                    &login,
                ))
            })
            .await
    }
}
