//! The names the harness gives servers, clients and ends.
//!
//! Server names are what tests and logs show ("server-2", "g1-server-2");
//! end names carry a counter so that no name is ever used twice, which is
//! what keeps a dead incarnation's messages from arriving after a restart.

/// The name of peer `i` of `group` (`""` for a cluster with no group name).
pub(crate) fn server_name(group: &str, i: usize) -> String {
    if group.is_empty() {
        format!("server-{i}")
    } else {
        format!("{group}-server-{i}")
    }
}

/// The name of client number `id`.
pub(crate) fn client_name(id: u64) -> String {
    format!("client-{id}")
}

/// The `k`-th end name the fabric hands out: from `from` to `to`.
pub(crate) fn end_name(from: &str, to: &str, k: u64) -> String {
    format!("{from}->{to}#{k}")
}

/// Panics unless `group` can prefix server names.
pub(crate) fn check_group(group: &str) {
    assert!(
        !group.is_empty()
            && group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "cluster: a group name must be non-empty ASCII letters, digits, '-' or '_', got {group:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_grouped_server_names() {
        assert_eq!(server_name("", 0), "server-0");
        assert_eq!(server_name("g1", 2), "g1-server-2");
        assert_eq!(end_name("server-0", "server-1", 7), "server-0->server-1#7");
        assert_eq!(client_name(3), "client-3");
    }

    #[test]
    #[should_panic(expected = "group name")]
    fn a_group_name_with_a_space_is_refused() {
        check_group("g 1");
    }
}
