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
            } => Decision::Events({
                let privileges = if role == Role::Staff {
                    privileges
                } else {
                    Privileges::new()
                };
                if role == self.role && privileges == self.privileges {
                    vec![]
                } else {
                    vec![UserEvent::RoleChanged {
                        role,
                        privileges,
                        at: now,
                    }]
                }
            }),
            C::Disable { now } => Decision::Events({
                if self.disabled {
                    vec![]
                } else {
                    vec![UserEvent::UserDisabled { at: now }, self.all_revoked(now)]
                }
            }),
            C::Delete { now } => Decision::Events(vec![
                self.all_revoked(now),
                UserEvent::UserDeleted { at: now },
            ]),
            other => Decision::Pass(Box::new(other)),
        }
    }
}
