"""schemathesis hooks for scripts/contract/run.py: the credentials of the dialect under test.

`run.py` signs in before the run and passes `Authorization` values, one session each:
`CONTRACT_TOKENS` for the dialect's test account (`techfesia`: the run's superuser,
`Bearer <access>`; `humit`: a user signed up through the Spotify stand-in,
`humit <humit_access_token>`), and `CONTRACT_REVOKE_TOKENS` for `DELETE /auth/token/`, which
signs its caller out everywhere: one account of its own per session, so that it never signs
out the account the rest of the run uses. A provider keeps its value until an answer is 401,
then moves to the next one. Nothing here signs in during the run, so the login throttles
never refuse the run itself.
"""

import os

import schemathesis

REVOKE = {"method": "DELETE", "path": "/auth/token/"}


def tokens(name):
    return [t for t in os.environ.get(name, "").split("\n") if t]


class Rotating:
    """The next value of `TOKENS` each time schemathesis asks (after a 401)."""

    TOKENS = []

    def __init__(self):
        self.next = 0

    def get(self, case, ctx):
        if not self.TOKENS:
            return None
        token = self.TOKENS[min(self.next, len(self.TOKENS) - 1)]
        self.next += 1
        return token

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
