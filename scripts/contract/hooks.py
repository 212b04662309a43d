"""schemathesis hooks for scripts/contract/run.py: the credentials of the dialect under test.

`run.py` signs in several times before the run (`CONTRACT_TOKENS`: `Authorization` values
of the dialect, one session each): `techfesia` as the run's superuser (`Bearer <access>`),
`humit` through the Spotify stand-in (`humit <humit_access_token>`). When an answer is 401
schemathesis asks for credentials again and gets the next session's, so an operation that
ends the run's own sessions (`DELETE /auth/token/`) does not sign the rest of the run out.
Nothing here signs in during the run, so the login throttles never refuse the run itself.
"""

import os

import schemathesis

TOKENS = [t for t in os.environ["CONTRACT_TOKENS"].split("\n") if t]


@schemathesis.auth(refresh_interval=None, retry_on=[401])
class DialectAuth:
    def __init__(self):
        self.next = 0

    def get(self, case, ctx):
        token = TOKENS[min(self.next, len(TOKENS) - 1)]
        self.next += 1
        return token

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = data
