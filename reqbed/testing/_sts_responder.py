"""The emulator's STS ``AssumeRole``: the answer AWS's STS gives, in its XML shape.

reqbed calls it as ``POST /`` with the form ``Action=AssumeRole&Version=2011-06-15&RoleArn=...
&RoleSessionName=...[&DurationSeconds=...][&ExternalId=...]``, SigV4-signed for service ``sts``
(see ``reqbed._aws.sts``). The emulator verifies that signature with the credentials it knows,
then issues temporary credentials (``ASIA...`` key id, secret, session token, expiry) and adds them
to its own key table, so the Bedrock calls signed with them pass, until they expire (403
``ExpiredTokenException`` after that, as AWS answers).

Errors are STS's XML (``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>``):
``ValidationError`` for a bad role ARN, session name or duration, ``InvalidAction`` for another
action. The shapes follow a real exchange (``bedrock-recordings/aws_sts/assume_role.json``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

__all__ = ["Issued", "StsError", "assume_role", "error_xml"]

_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]{1,64})")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")
_MIN_DURATION, _DEFAULT_DURATION, _MAX_DURATION = 900, 3600, 43200


class StsError(Exception):
    """An STS error answer: ``status``, ``code``, AWS's message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Issued:
    """Temporary credentials the emulator handed out (never printed: no repr of the secrets)."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float  # epoch seconds

    def __repr__(self) -> str:
        return f"Issued(access_key_id={self.access_key_id!r}, expires_at={self.expires_at!r})"


def _stamp(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def assume_role(form: bytes, *, now: float, serial: int, seed: int, request_id: str) -> tuple[Issued, str, str]:
    """Check an AssumeRole form; return (credentials, their XML answer, the assumed-role ARN)."""
    params = {k: v[0] for k, v in parse_qs(form.decode("utf-8", "replace"), keep_blank_values=True).items()}
    action = params.get("Action")
    if action != "AssumeRole":
        raise StsError(400, "InvalidAction", f"Could not find operation {action} for version {params.get('Version')}")
    arn = params.get("RoleArn", "")
    m = _ROLE_ARN.fullmatch(arn)
    if m is None:
        raise StsError(400, "ValidationError", f"{arn} is invalid")
    session = params.get("RoleSessionName", "")
    if not _SESSION_NAME.fullmatch(session):
        raise StsError(
            400,
            "ValidationError",
            f"1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: "
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        )
    raw = params.get("DurationSeconds", str(_DEFAULT_DURATION))
    duration = int(raw) if raw.isdigit() else -1
    if not _MIN_DURATION <= duration <= _MAX_DURATION:
        raise StsError(
            400,
            "ValidationError",
            f"1 validation error detected: Value '{raw}' at 'durationSeconds' failed to satisfy constraint: "
            f"Member must have value between {_MIN_DURATION} and {_MAX_DURATION}",
        )
    digest = hashlib.sha256(f"{seed}:{serial}:{arn}:{session}:{now}".encode()).hexdigest().upper()
    issued = Issued(
        access_key_id="ASIA" + digest[:16],
        secret_access_key="emulator" + digest[16:48],
        session_token="EMULATORSESSION" + hashlib.sha256(digest.encode()).hexdigest() * 2,
        expires_at=float(int(now) + duration),
    )
    assumed_arn = f"arn:aws:sts::{m['account']}:assumed-role/{m['name']}/{session}"
    role_id = "AROA" + digest[48:64]
    xml = (
        f'<AssumeRoleResponse xmlns="{_NS}">\n'
        "  <AssumeRoleResult>\n"
        "    <AssumedRoleUser>\n"
        f"      <AssumedRoleId>{role_id}:{escape(session)}</AssumedRoleId>\n"
        f"      <Arn>{escape(assumed_arn)}</Arn>\n"
        "    </AssumedRoleUser>\n"
        "    <Credentials>\n"
        f"      <AccessKeyId>{issued.access_key_id}</AccessKeyId>\n"
        f"      <SecretAccessKey>{issued.secret_access_key}</SecretAccessKey>\n"
        f"      <SessionToken>{issued.session_token}</SessionToken>\n"
        f"      <Expiration>{_stamp(issued.expires_at)}</Expiration>\n"
        "    </Credentials>\n"
        "  </AssumeRoleResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</AssumeRoleResponse>\n"
    )
    return issued, xml, assumed_arn


def error_xml(code: str, message: str, request_id: str) -> str:
    """STS's error document (``Sender`` faults: the caller's request was wrong)."""
    return (
        f'<ErrorResponse xmlns="{_NS}">\n'
        "  <Error>\n"
        "    <Type>Sender</Type>\n"
        f"    <Code>{escape(code)}</Code>\n"
        f"    <Message>{escape(message)}</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    )
