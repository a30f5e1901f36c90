//! Project id lookup by region name (`GET /v3/projects?name=<region>`) for accounts that did not
//! give a `projectId`.

use http::Method;
use serde::Deserialize;
use url::Url;

use super::auth::AkSkSigner;
use super::endpoints::join;
use super::error::Error;
use super::rate_limit::Limiter;
use super::transport::{Credential, Request, Transport};
use super::wire::{Loose, decode};

const OP: &str = "list_projects";

#[derive(Deserialize)]
struct ProjectList {
    #[serde(default)]
    projects: Vec<ProjectItem>,
}

#[derive(Deserialize)]
struct ProjectItem {
    #[serde(default)]
    id: Loose,
    #[serde(default)]
    name: Loose,
}

/// The id of the one project named `region`, asked of IAM with an AK/SK-signed request.
pub(crate) async fn lookup_project_id(
    transport: &Transport,
    limiter: Option<&Limiter>,
    iam: &Url,
    signer: AkSkSigner<'_>,
    region: &str,
) -> Result<String, Error> {
    let mut url = join(iam, &["v3", "projects"])?;
    url.query_pairs_mut().append_pair("name", region);
    let req = Request::new("iam", OP, Method::GET, url);
    let signer = AkSkSigner {
        project_id: None,
        ..signer
    };
    transport
        .send(limiter, &req, &Credential::Signed(signer), |reply| {
            pick_project(&reply.body, region)
        })
        .await
}

/// Exactly one project with that exact name, else a configuration error saying what to set.
fn pick_project(body: &[u8], region: &str) -> Result<String, Error> {
    let list: ProjectList = decode("iam", OP, body)?;
    // Filter here too: the name query is a filter the server may ignore.
    let ids: Vec<String> = list
        .projects
        .iter()
        .filter(|p| p.name.text().as_deref() == Some(region))
        .filter_map(|p| p.id.id())
        .collect();
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        [] => Err(Error::Config(format!(
            "IAM has no project named {region:?}; set projectId in the credentials Secret"
        ))),
        many => Err(Error::Config(format!(
            "IAM has {} projects named {region:?}; set projectId in the credentials Secret",
            many.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_project_is_required() {
        let one = br#"{"projects":[{"id":"p1","name":"eu-de","enabled":true},
                      {"id":"p2","name":"eu-de_sub"}],"links":{"self":"x"}}"#;
        assert_eq!(pick_project(one, "eu-de").unwrap(), "p1");
        assert_eq!(pick_project(one, "eu-de_sub").unwrap(), "p2");
        let none = pick_project(br#"{"projects":[]}"#, "eu-de").unwrap_err();
        assert!(matches!(&none, Error::Config(m) if m.contains("no project named")));
        let two = br#"{"projects":[{"id":"a","name":"eu-de"},{"id":"b","name":"eu-de"}]}"#;
        let e = pick_project(two, "eu-de").unwrap_err();
        assert!(
            matches!(&e, Error::Config(m) if m.contains("2 projects")),
            "{e}"
        );
        assert!(matches!(
            pick_project(b"{\"projects\":{}}", "eu-de"),
            Err(Error::Decode { .. })
        ));
    }
}
