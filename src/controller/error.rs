//! Errors of a reconcile that the state machine could not absorb into status.

/// A reconcile failure: the controller's error policy logs it, counts it and requeues.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Kubernetes API refused or failed a call (status write, finalizer, Secret read).
    #[error("kubernetes API: {0}")]
    Kube(#[source] kube::Error),
    /// The credentials Secret is missing or malformed.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The object lacks something the API server always sets (namespace, uid).
    #[error("object has no {0}")]
    MissingField(&'static str),
    /// A bug-class failure that must not crash the operator.
    #[error("internal: {0}")]
    Internal(String),
    /// This replica may not start a create (it lost, or could not renew, the leader lease).
    #[error("fenced: {0}")]
    Fenced(#[from] crate::fence::Fenced),
}

impl Error {
    /// Stable CamelCase label for events and the `reason` metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Kube(kube::Error::Api(s)) if s.code == 409 => "Conflict",
            Self::Kube(_) => "KubeError",
            Self::Credentials(_) => "CredentialsError",
            Self::MissingField(_) => "MissingField",
            Self::Internal(_) => "Internal",
            Self::Fenced(_) => "Fenced",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
