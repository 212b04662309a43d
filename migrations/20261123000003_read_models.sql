-- Read models. Each table belongs to exactly one projection, which alone writes it.

-- projection `users`
CREATE TABLE rm_users
(
    user_id           text PRIMARY KEY,
    username          text        NOT NULL,
    email             text,
    first_name        text        NOT NULL DEFAULT '',
    last_name         text        NOT NULL DEFAULT '',
    phone_number      text        NOT NULL DEFAULT '',
    college_name      text        NOT NULL DEFAULT '',
    profile_picture   text        NOT NULL DEFAULT '',
    referral_code     text        NOT NULL,
    signup_method     text        NOT NULL,
    role              text        NOT NULL DEFAULT 'normal',
    privileges        jsonb       NOT NULL DEFAULT '{}',
    disabled          boolean     NOT NULL DEFAULT false,
    has_password      boolean     NOT NULL DEFAULT false,
    providers         jsonb       NOT NULL DEFAULT '{}',
    signup_stage      int         NOT NULL DEFAULT 0,
    date_of_birth     date,
    favourite_artists jsonb,
    notification_id   text,
    playlist_id       text,
    internal_username text,
    country           text,
    referred_by       text,
    tokens            int         NOT NULL DEFAULT 0,
    date_joined       timestamptz NOT NULL,
    last_login        timestamptz
);

CREATE UNIQUE INDEX rm_users_username_idx ON rm_users (lower(username));
CREATE INDEX rm_users_referral_idx ON rm_users (referral_code);

-- projection `social`
CREATE TABLE rm_user_stats
(
    user_id   text PRIMARY KEY,
    followers bigint NOT NULL DEFAULT 0,
    following bigint NOT NULL DEFAULT 0,
    hums      bigint NOT NULL DEFAULT 0,
    stations  bigint NOT NULL DEFAULT 0
);

CREATE TABLE rm_user_follows
(
    follower_id text        NOT NULL,
    followee_id text        NOT NULL,
    since       timestamptz NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX rm_user_follows_followee_idx ON rm_user_follows (followee_id);

CREATE TABLE rm_user_mutes
(
    user_id       text NOT NULL,
    muted_user_id text NOT NULL,
    PRIMARY KEY (user_id, muted_user_id)
);

CREATE TABLE rm_stations
(
    station_id  text PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL,
    image_url   text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    followers   bigint      NOT NULL DEFAULT 0,
    hums        bigint      NOT NULL DEFAULT 0
);

CREATE TABLE rm_station_follows
(
    user_id    text        NOT NULL,
    station_id text        NOT NULL,
    since      timestamptz NOT NULL,
    PRIMARY KEY (user_id, station_id)
);

CREATE TABLE rm_hums
(
    hum_id     text PRIMARY KEY,
    user_id    text        NOT NULL,
    station_id text        NOT NULL,
    track_id   text        NOT NULL,
    caption    text        NOT NULL,
    posted_at  timestamptz NOT NULL
);
CREATE INDEX rm_hums_station_idx ON rm_hums (station_id, posted_at DESC);
