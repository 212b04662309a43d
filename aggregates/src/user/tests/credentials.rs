//! Registration, login, and the password: create, change, and reset with a mailed token.

use super::*;

/// alice registers as `u1` with `referral_code` (and `password`, if any).
fn register(referral_code: &str, password: Option<&str>) -> UserCommand {
    UserCommand::Register {
        user_id: "u1".into(),
        username: "alice".into(),
        details: UserDetails::default(),
        referral_code: referral_code.into(),
        password: password.map(Into::into),
        identity: None,
        spotify_tokens: None,
        role: Role::Normal,
        now: now(),
    }
}

#[test]
fn register_with_password_stores_the_hash() {
    given(vec![])
        .when(register("123456", Some("pw")))
        .then_expect_events(with_password("pw"));
}

#[test]
fn register_twice_is_refused() {
    given(vec![registered()])
        .when(register("1", None))
        .then_expect_error(UserError::AlreadyExists);
}

#[tokio::test]
async fn login_checks_the_password_and_writes_nothing() {
    let user = user_from(with_password("pw"));
    assert_eq!(user.check_login("pw", &services()).await, Ok(()));
    assert_eq!(
        user.check_login("nope", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[tokio::test]
async fn login_to_an_oauth_only_account_is_refused() {
    let user = user_from(vec![registered(), linked_google()]);
    assert_eq!(
        user.check_login("", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[tokio::test]
async fn a_disabled_or_unknown_account_cannot_log_in() {
    let user = user_from(vec![
        registered(),
        password_set("pw", PasswordChange::Initial),
        UserEvent::UserDisabled { at: now() },
    ]);
    assert_eq!(
        user.check_login("pw", &services()).await,
        Err(UserError::InvalidCredentials)
    );
    assert_eq!(user.ensure_active(), Err(UserError::Disabled));
    assert_eq!(
        User::default().check_login("pw", &services()).await,
        Err(UserError::InvalidCredentials)
    );
}

#[test]
fn create_password_only_without_one() {
    given(vec![registered(), linked_google()])
        .when(UserCommand::CreatePassword {
            password: "pw".into(),
            now: now(),
        })
        .then_expect_events(vec![password_set("pw", PasswordChange::Created)]);
    given(with_password("pw"))
        .when(UserCommand::CreatePassword {
            password: "pw2".into(),
            now: now(),
        })
        .then_expect_error(UserError::PasswordAlreadySet);
}

/// The owner changes the password from `old` to `new`.
fn change_to_new(old: &str) -> UserCommand {
    UserCommand::ChangePassword {
        old_password: old.into(),
        new_password: "new".into(),
        now: now(),
    }
}

#[test]
fn change_password_checks_the_old_one_and_ends_sessions() {
    given(vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        started("s1"),
    ])
    .when(change_to_new("old"))
    .then_expect_events(vec![
        password_set("new", PasswordChange::Changed),
        sessions_revoked(now()),
    ]);
    given(with_password("old"))
        .when(change_to_new("wrong"))
        .then_expect_error(UserError::WrongPassword);
    given(vec![registered(), linked_google()])
        .when(change_to_new("x"))
        .then_expect_error(UserError::NoPassword);
}

fn reset_requested(hash: &str, at: DateTime<Utc>) -> UserEvent {
    UserEvent::PasswordResetRequested {
        token_hash: Secret::new(hash.into()),
        expires_at: at + Duration::minutes(RESET_TOKEN_TTL_MINUTES),
        at,
    }
}

/// alice with the password `old` and a reset token `h1` mailed now.
fn h1_pending() -> Vec<UserEvent> {
    let mut events = with_password("old");
    events.push(reset_requested("h1", now()));
    events
}

/// Resetting with `token` to `password` at `at`, after `events`.
fn reset(
    events: Vec<UserEvent>,
    token: &str,
    password: &str,
    at: DateTime<Utc>,
) -> cqrs_es::test::AggregateResultValidator<User> {
    given(events).when(UserCommand::ResetPassword {
        token_hash: token.into(),
        new_password: password.into(),
        now: at,
    })
}

/// What a reset to `password` at `at` records: the new password, and every session ends.
fn reset_done(password: &str, at: DateTime<Utc>) -> Vec<UserEvent> {
    vec![
        password_set_at(password, PasswordChange::Reset, at),
        sessions_revoked(at),
    ]
}

#[test]
fn a_reset_token_works_once_and_expires() {
    let pending = h1_pending();
    let soon = now() + Duration::minutes(5);
    reset(pending.clone(), "h1", "new", soon).then_expect_events(reset_done("new", soon));
    // Used: the reset cleared every pending token.
    let mut used = pending.clone();
    used.push(password_set("new", PasswordChange::Reset));
    reset(used, "h1", "again", now() + Duration::minutes(6))
        .then_expect_error(UserError::ResetTokenInvalid);
    // Expired.
    reset(pending.clone(), "h1", "new", now() + Duration::minutes(31))
        .then_expect_error(UserError::ResetTokenInvalid);
    // Unknown.
    reset(pending, "other", "new", now()).then_expect_error(UserError::ResetTokenInvalid);
}

/// Resetting with `h1` after `events`, five minutes after it was mailed.
fn reset_with_h1(events: Vec<UserEvent>) -> cqrs_es::test::AggregateResultValidator<User> {
    reset(events, "h1", "stolen", now() + Duration::minutes(5))
}

#[test]
fn every_password_change_voids_the_pending_reset_tokens() {
    // Changed by the owner, knowing the old one.
    reset_with_h1(vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
        password_set("new", PasswordChange::Changed),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
    // Created on an OAuth-only account.
    reset_with_h1(vec![
        registered(),
        linked_google(),
        reset_requested("h1", now()),
        password_set("new", PasswordChange::Created),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
    // Reset with another token: this one dies too.
    reset_with_h1(vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        reset_requested("h1", now()),
        reset_requested("h2", now()),
        password_set("new", PasswordChange::Reset),
    ])
    .then_expect_error(UserError::ResetTokenInvalid);
}

fn details_with_email(email: &str, first_name: &str) -> UserEvent {
    UserEvent::DetailsUpdated {
        details: UserDetails {
            email: Some(email.into()),
            first_name: first_name.into(),
            ..UserDetails::default()
        },
        at: now(),
    }
}

#[test]
fn an_email_change_voids_the_pending_reset_tokens_and_other_details_do_not() {
    let before = vec![
        registered(),
        password_set("old", PasswordChange::Initial),
        details_with_email("alice@old.example", ""),
        reset_requested("h1", now()),
    ];
    let mut moved = before.clone();
    moved.push(details_with_email("alice@new.example", ""));
    reset_with_h1(moved).then_expect_error(UserError::ResetTokenInvalid);
    // A new first name keeps the address, and the token with it.
    let mut renamed = before;
    renamed.push(details_with_email("alice@old.example", "Alice"));
    reset_with_h1(renamed).then_expect_events(reset_done("stolen", now() + Duration::minutes(5)));
}

#[test]
fn disabling_and_deleting_void_the_pending_reset_tokens() {
    let pending = h1_pending();
    assert_eq!(user_from(pending.clone()).pending_resets(), 1);
    let mut disabled = pending.clone();
    disabled.push(UserEvent::UserDisabled { at: now() });
    assert_eq!(user_from(disabled.clone()).pending_resets(), 0);
    reset_with_h1(disabled).then_expect_error(UserError::ResetTokenInvalid);
    let mut deleted = pending;
    deleted.push(UserEvent::UserDeleted { at: now() });
    assert_eq!(user_from(deleted.clone()).pending_resets(), 0);
    reset_with_h1(deleted).then_expect_error(UserError::NotFound);
}
