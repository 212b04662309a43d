"""schemathesis hooks for scripts/contract/run.py: the credentials of the dialect under test.

`run.py` signs in before the run and passes `Authorization` values, one session each:
`CONTRACT_TOKENS` for the dialect's test account (`techfesia`: the run's superuser,
`Bearer <access>`; `humit`: a user signed up through the Spotify stand-in,
`humit <humit_access_token>`), and `CONTRACT_REVOKE_TOKENS` for `DELETE /auth/token/`, which
signs its caller out everywhere: one account of its own per session, so that it never signs
out the account the rest of the run uses. A provider keeps its value until an answer is 401,
then checks its sessions (a request to the account's own resource) and moves to the first
one that still signs in. Nothing here signs in during the run, so the login throttles
never refuse the run itself.
"""

import os
import urllib.error
import urllib.request

import schemathesis

BASE = os.environ["CONTRACT_BASE"]

REVOKE = {"method": "DELETE", "path": "/auth/token/"}


def tokens(name):
    """`(probe path, Authorization value)` pairs, one a line, tab-separated."""
    return [tuple(t.split("\t", 1)) for t in os.environ.get(name, "").split("\n") if t]


def alive(probe, token):
    """Whether the session still signs in: the probe (the account's own resource) is not 401."""
    req = urllib.request.Request(BASE + probe, headers={"Authorization": token})
    try:
        with urllib.request.urlopen(req, timeout=20):
            return True
    except urllib.error.HTTPError as e:
        return e.code != 401
    except OSError:
        return True


class Rotating:
    """The first session of `TOKENS`, from the current one on, that still signs in."""

    TOKENS = []

    def __init__(self):
        self.next = 0

    def get(self, case, ctx):
        while self.next < len(self.TOKENS) - 1 and not alive(*self.TOKENS[self.next]):
            self.next += 1
        return self.TOKENS[self.next][1] if self.TOKENS else None

    def set(self, case, data, ctx):
        if data is None:
            return
        case.headers = case.headers or {}
        case.headers["Authorization"] = data


# Cached for good (a day), fetched again after a 401.
@schemathesis.auth(refresh_interval=86400, retry_on=[401]).skip_for(**REVOKE)
class DialectAuth(Rotating):
    TOKENS = tokens("CONTRACT_TOKENS")


@schemathesis.auth(refresh_interval=86400, retry_on=[401]).apply_to(**REVOKE)
class RevokingAuth(Rotating):
    TOKENS = tokens("CONTRACT_REVOKE_TOKENS") or tokens("CONTRACT_TOKENS")
