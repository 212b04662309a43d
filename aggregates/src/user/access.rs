//! The access part of `User`: role and privileges, disabling, deleting, ending sessions.

use super::aggregate::{Decision, User};
use super::command::UserCommand;
use super::event::{Privileges, Role, UserEvent};

impl User {
    /// Decides the access commands; hands any other back.
    pub(super) fn decide_access(&self, command: UserCommand) -> Decision {
        use UserCommand as C;
        match command {
            C::RevokeAllSessions { now } => Decision::Events(vec![self.all_revoked(now)]),
            C::SetRole {
                role,
                privileges,
                now,
            } => {
                let privileges = if role == Role::Staff {
                    privileges
                } else {
                    Privileges::new()
                };
                let unchanged = role == self.role && privileges == self.privileges;
                Decision::unless_unchanged(unchanged, || {
                    vec![UserEvent::RoleChanged {
                        role,
                        privileges,
                        at: now,
                    }]
                })
            }
            C::Disable { now } => Decision::unless_unchanged(self.disabled, || {
                vec![UserEvent::UserDisabled { at: now }, self.all_revoked(now)]
            }),
            C::Delete { now } => Decision::Events(vec![
                self.all_revoked(now),
                UserEvent::UserDeleted { at: now },
            ]),
            other => Decision::Pass(Box::new(other)),
        }
    }
}
