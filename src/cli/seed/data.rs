//! The demo data set: stations, people, who follows what and whom, and their hums. Indexes
//! into [`STATIONS`] and [`PEOPLE`] tie them together; [`super::load_demo`] loads them.

/// A demo station: id suffix, name, description.
pub const STATIONS: &[(&str, &str, &str)] = &[
    (
        "lofi",
        "Lo-fi Beats",
        "Mellow beats to study, code and unwind to.",
    ),
    (
        "indie",
        "Indie Mornings",
        "Fresh indie and alt-pop to start the day.",
    ),
    (
        "bollywood",
        "Bollywood Classics",
        "Timeless Hindi film songs, from the 70s to now.",
    ),
    (
        "hiphop",
        "Hip-Hop Cypher",
        "Bars, beats and the freshest verses.",
    ),
    (
        "jazz",
        "Jazz After Dark",
        "Smoky standards and modern jazz for late nights.",
    ),
    (
        "workout",
        "Workout Bangers",
        "High-BPM tracks to push through the last rep.",
    ),
    (
        "acoustic",
        "Acoustic Evenings",
        "Unplugged covers and quiet songwriters.",
    ),
    (
        "electronic",
        "Electronic Pulse",
        "House, techno and everything with a four-on-the-floor.",
    ),
];

/// A demo person: handle, full name (first, last), country, date of birth, favourite artists.
pub struct Person {
    pub handle: &'static str,
    pub first: &'static str,
    pub last: &'static str,
    pub country: &'static str,
    pub born: (i32, u32, u32),
    pub artists: &'static [&'static str],
}

pub const PEOPLE: &[Person] = &[
    Person {
        handle: "harshitaprabha",
        first: "Harshita",
        last: "Prabha",
        country: "IN",
        born: (1996, 3, 14),
        artists: &["Arijit Singh", "Prateek Kuhad"],
    },
    Person {
        handle: "rohit.k",
        first: "Rohit",
        last: "Kumar",
        country: "IN",
        born: (1994, 4, 26),
        artists: &["Divine", "Nucleya"],
    },
    Person {
        handle: "maya_beats",
        first: "Maya",
        last: "Fernandes",
        country: "IN",
        born: (1999, 8, 2),
        artists: &["Nujabes", "J Dilla"],
    },
    Person {
        handle: "samjazz",
        first: "Samuel",
        last: "Okafor",
        country: "GB",
        born: (1988, 11, 30),
        artists: &["Miles Davis", "Kamasi Washington"],
    },
    Person {
        handle: "lena.indie",
        first: "Lena",
        last: "Vogel",
        country: "DE",
        born: (1997, 6, 21),
        artists: &["Phoebe Bridgers", "The National"],
    },
    Person {
        handle: "arjun_runs",
        first: "Arjun",
        last: "Mehta",
        country: "IN",
        born: (1992, 1, 9),
        artists: &["Eminem", "The Weeknd"],
    },
    Person {
        handle: "sofia.sings",
        first: "Sofía",
        last: "García",
        country: "ES",
        born: (2000, 12, 5),
        artists: &["Rosalía", "Bon Iver"],
    },
    Person {
        handle: "djkenji",
        first: "Kenji",
        last: "Sato",
        country: "JP",
        born: (1990, 7, 17),
        artists: &["Daft Punk", "Nils Frahm"],
    },
    Person {
        handle: "priya.plays",
        first: "Priya",
        last: "Nair",
        country: "IN",
        born: (1998, 2, 28),
        artists: &["A. R. Rahman", "Lata Mangeshkar"],
    },
    Person {
        handle: "tomwaits4no1",
        first: "Tom",
        last: "Becker",
        country: "US",
        born: (1985, 10, 3),
        artists: &["Tom Waits", "Nick Drake"],
    },
];

/// Which stations each person follows (indices into [`STATIONS`]); everyone follows at least
/// three, so everyone has finished onboarding.
pub const STATION_FOLLOWS: &[&[usize]] = &[
    &[2, 0, 6, 1],
    &[3, 2, 5],
    &[0, 3, 4, 7],
    &[4, 0, 6],
    &[1, 6, 0],
    &[5, 3, 7, 0],
    &[6, 1, 4],
    &[7, 0, 5, 4],
    &[2, 6, 0],
    &[6, 4, 1],
];

/// Who follows whom (indices into [`PEOPLE`]): a few people are popular, as in life.
pub const USER_FOLLOWS: &[(usize, usize)] = &[
    (1, 0),
    (2, 0),
    (3, 0),
    (4, 0),
    (5, 0),
    (8, 0),
    (9, 0),
    (0, 2),
    (3, 2),
    (7, 2),
    (5, 2),
    (6, 2),
    (0, 1),
    (5, 1),
    (8, 1),
    (2, 7),
    (4, 7),
    (6, 7),
    (1, 3),
    (9, 3),
    (6, 4),
    (0, 8),
    (2, 9),
];

/// Hums: person, station, Spotify track id, caption.
pub const HUMS: &[(usize, usize, &str, &str)] = &[
    (0, 2, "5ZLkc5RY1NM4FtGWEd6HOE", "This never gets old"),
    (0, 0, "0wwPcA6wtMf6HUMpIRdeP7", "Sunday mornings"),
    (1, 3, "0aVFsOcMLzUIcQ5sj6VzqW", "Mumbai represent"),
    (2, 0, "6pQFv2lxfkTmVjPmKRAGCF", "Rainy day loop"),
    (2, 4, "4vLYewWIvqHfKtJDk8c8tq", "Late night vibes"),
    (3, 4, "1ZoZNuUrb4CLsBGm4Nlnpd", "So What, forever"),
    (
        4,
        1,
        "6Qyc6fS4DsZjB2mRW9DsQs",
        "Motion sickness, but make it a mood",
    ),
    (5, 5, "7lQ8MOhq6IN2w8EYcFNSUk", "Last set, go"),
    (5, 3, "0VjIjW4GlUZAMYd2vXMi3b", "Driving at night"),
    (6, 6, "3EYOJ48Et32uATr9ZmLnAo", "Quiet and perfect"),
    (7, 7, "0DiWol3AO6WpXZgp0goxAV", "One more time"),
    (7, 0, "2HTIsKCbSX6ShKlKDjfAtL", "Says"),
    (8, 2, "1Yx4jd3jNnwTdkB2yHaqnq", "Evergreen"),
    (9, 6, "5fhTtf0IV8BNqSFmTkWfIb", "Pink Moon on repeat"),
];
