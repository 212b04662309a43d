//! Who may act: roles and privileges, disabling, deleting, ending every session.

use super::*;

#[test]
fn commands_on_a_missing_user_are_refused() {
    given(vec![])
        .when(UserCommand::Disable { now: now() })
        .then_expect_error(UserError::NotFound);
}

#[test]
fn revoke_all_ends_every_session_started_before_it() {
    // Sessions are their own aggregate; the event names none, it sets the cut-off.
    given(vec![registered(), started("s1"), started("s2")])
        .when(UserCommand::RevokeAllSessions { now: now() })
        .then_expect_events(vec![sessions_revoked(now())]);
}

#[test]
fn disabling_ends_sessions_and_blocks_actions() {
    given(vec![registered(), started("s1")])
        .when(UserCommand::Disable { now: now() })
        .then_expect_events(vec![
            UserEvent::UserDisabled { at: now() },
            sessions_revoked(now()),
        ]);
    let disabled = user_from(vec![registered(), UserEvent::UserDisabled { at: now() }]);
    assert_eq!(disabled.ensure_active(), Err(UserError::Disabled));
}

#[test]
fn deleting_ends_sessions_and_the_account() {
    given(vec![registered(), started("s1")])
        .when(UserCommand::Delete { now: now() })
        .then_expect_events(vec![
            sessions_revoked(now()),
            UserEvent::UserDeleted { at: now() },
        ]);
    given(vec![registered(), UserEvent::UserDeleted { at: now() }])
        .when(UserCommand::RevokeAllSessions { now: now() })
        .then_expect_error(UserError::NotFound);
}

#[test]
fn staff_keeps_privileges_and_other_roles_drop_them() {
    let mut privileges = Privileges::new();
    privileges.insert("user".into(), [Action::Read].into_iter().collect());
    given(vec![registered()])
        .when(UserCommand::SetRole {
            role: Role::Staff,
            privileges: privileges.clone(),
            now: now(),
        })
        .then_expect_events(vec![UserEvent::RoleChanged {
            role: Role::Staff,
            privileges: privileges.clone(),
            at: now(),
        }]);
    given(vec![registered()])
        .when(UserCommand::SetRole {
            role: Role::Superuser,
            privileges,
            now: now(),
        })
        .then_expect_events(vec![UserEvent::RoleChanged {
            role: Role::Superuser,
            privileges: Privileges::new(),
            at: now(),
        }]);
}
