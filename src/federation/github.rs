//! GitHub Actions OIDC subjects, both formats: the legacy
//! `repo:<owner>/<repo>:<context>` and the immutable-ID
//! `repo:<owner>@<owner_id>/<repo>@<repo_id>:<context>` (the default for
//! repositories created from 15 July 2026), where the context is e.g.
//! `ref:refs/heads/main`, `environment:prod` or `pull_request`.
//!
//! A legacy subject names the repository by its name only: a deleted and
//! re-created (or renamed and re-registered) repository of the same name
//! gets the same subject. Pin `repository_id` / `repository_owner_id`
//! (or an immutable-ID subject) instead.

/// A parsed GitHub Actions subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GithubSubject<'s> {
    pub(crate) owner: &'s str,
    pub(crate) owner_id: Option<&'s str>,
    pub(crate) repo: &'s str,
    pub(crate) repo_id: Option<&'s str>,
    pub(crate) context: &'s str,
}

impl<'s> GithubSubject<'s> {
    /// Parses `sub`; `None` if it is no `repo:` subject.
    pub(crate) fn parse(sub: &'s str) -> Option<Self> {
        let rest = sub.strip_prefix("repo:")?;
        let (repository, context) = rest.split_once(':')?;
        let (owner, repo) = repository.split_once('/')?;
        let (owner, owner_id) = split_id(owner)?;
        let (repo, repo_id) = split_id(repo)?;
        // Both or neither: a half-immutable subject is neither format.
        if owner_id.is_some() != repo_id.is_some() || owner.is_empty() || repo.is_empty() {
            return None;
        }
        Some(Self {
            owner,
            owner_id,
            repo,
            repo_id,
            context,
        })
    }

    /// Whether this is the immutable-ID format.
    pub(crate) fn is_immutable(&self) -> bool {
        self.owner_id.is_some()
    }

    /// Whether `other` names the same owner, repository and context by
    /// name, whatever the format.
    pub(crate) fn same_names(&self, other: &Self) -> bool {
        self.owner.eq_ignore_ascii_case(other.owner)
            && self.repo.eq_ignore_ascii_case(other.repo)
            && self.context == other.context
    }
}

/// `name@123` → (`name`, `Some("123")`); `name` → (`name`, `None`).
fn split_id(part: &str) -> Option<(&str, Option<&str>)> {
    match part.split_once('@') {
        None => Some((part, None)),
        Some((name, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
            Some((name, Some(id)))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_formats() {
        let legacy = GithubSubject::parse("repo:octo-org/octo-repo:ref:refs/heads/main").unwrap();
        assert!(!legacy.is_immutable());
        assert_eq!(legacy.context, "ref:refs/heads/main");
        let immutable =
            GithubSubject::parse("repo:octo-org@123/octo-repo@456:environment:prod").unwrap();
        assert_eq!(immutable.owner_id, Some("123"));
        assert_eq!(immutable.repo_id, Some("456"));
        assert!(GithubSubject::parse("repo:octo-org@123/octo-repo:pull_request").is_none());
        assert!(GithubSubject::parse("repo:octo-org@x/octo-repo@1:pull_request").is_none());
        assert!(GithubSubject::parse("system:serviceaccount:a:b").is_none());
    }
}
