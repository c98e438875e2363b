"""The MQTT contract shared by kiosk and server: topics and versioned payloads.

Both ends validate with the same code, so a record the kiosk would refuse to send is
exactly a record the server refuses to store. Validation is strict (unknown fields,
wrong types, out-of-range values and oversize payloads are all rejected) because a
rating counts in an official's record and in reports to the province.

msgspec does the checking: declarative, strict about types (``True`` is not a score)
and fast enough that validation is never the bottleneck of ingest.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Literal

import msgspec

from hailong.errors import HailongError

from sync import timerules

SCHEMA_VERSION = 1
PREFIX = "hailong/v1"
MAX_BATCH_BYTES = 512 * 1024
MAX_BATCH_RECORDS = 1000
MAX_STATUS_TEXT = 1000  # a status's last error: long enough for a TLS failure's names
ID_PART = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # commune / kiosk ids: topic-safe


class ContractError(HailongError, ValueError):
    """A payload or topic does not follow the contract; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- topics -----------------------------------------------------------------------

KINDS = ("ratings", "acks", "status", "config", "session")


def topic(commune: str, kiosk: str, kind: str) -> str:
    assert kind in KINDS, kind
    return f"{PREFIX}/{commune}/{kiosk}/{kind}"


def subscription(commune: str, kind: str) -> str:
    """The server's wildcard for one kind of message from every kiosk of a commune."""
    return f"{PREFIX}/{commune}/+/{kind}"


def parse_topic(name: str) -> tuple[str, str, str]:
    """``hailong/v1/{c}/{k}/{kind}`` -> (commune, kiosk, kind)."""
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:2]) != PREFIX or parts[4] not in KINDS:
        raise ContractError("bad-topic", name[:200])
    return parts[2], parts[3], parts[4]


def valid_id(value: str) -> bool:
    return bool(ID_PART.match(value))


# --- payloads ----------------------------------------------------------------------

Id = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Uuid = Annotated[str, msgspec.Meta(
    pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,40}$")]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Timestamp = Annotated[float, msgspec.Meta(ge=946684800.0, le=4102444800.0)]  # 2000..2100
# A kiosk's wall clock, any finite value: unsynchronised it is expected to be wrong (a Pi
# without network can say 1970), so only sync/timerules.py judges it, and only when the
# kiosk claims it was synchronised (issue 8: a pre-2000 clock lost ratings for good).
WallClock = float
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9]{8,15}$")]


class Contact(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A call-back number the citizen chose to leave, with the consent they gave."""
    phone: Phone
    consent: Literal[True]          # no consent, no number (Decree 13/2023)
    consent_text: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class SurveyAnswer(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One answer of the SIPAS survey asked after a rating (issue 12): which question
    (and the factor it measures), and the level chosen on its scale (1 = worst)."""
    q: Code                         # the question's code, as the kiosk config named it
    factor: Code                    # the SIPAS factor it measures (SIPAS_FACTORS)
    level: Annotated[int, msgspec.Meta(ge=1, le=5)]
    scale: Annotated[int, msgspec.Meta(ge=3, le=5)]


class Rating(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """One citizen's rating of one official, as the kiosk recorded it."""
    id: Uuid                        # UUIDv7, made by the kiosk: time-ordered, unique
    v: Literal[1]
    kiosk: Id
    commune: Id
    counter: Id
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]     # 1 = worst, scale = best
    scale: Annotated[int, msgspec.Meta(ge=3, le=5)]
    created_at: WallClock           # the kiosk's wall clock, Unix seconds
    clock_synced: bool              # was that clock NTP-synchronised?
    boot_id: Uuid                   # with mono, places the rating when the clock was wrong
    mono: Annotated[float, msgspec.Meta(ge=0)]  # seconds since that boot (CLOCK_BOOTTIME)
    official: Id | None = None
    reasons: Annotated[list[Code], msgspec.Meta(max_length=12)] = []
    dossier: Text | None = None     # mã hồ sơ
    procedure: Text | None = None   # thủ tục hành chính
    field: Text | None = None       # lĩnh vực
    transaction: Text | None = None  # the session message this rating answers
    contact: Contact | None = None
    suspect: Code | None = None     # why the kiosk thinks it was not a citizen's press
    lang: Code = "vi"
    # The SIPAS survey answers given after this rating (issue 12). UNSET (not []) so
    # that a rating without a survey encodes exactly as before: old servers keep
    # accepting it, and fingerprints of stored ratings do not change. A rating that
    # carries answers is refused by an old server ("invalid: Object contains unknown
    # field `survey`"), which reaches the kiosk as a rejection with that reason.
    survey: Annotated[list[SurveyAnswer], msgspec.Meta(max_length=12)] | msgspec.UnsetType \
        = msgspec.UNSET


class Batch(msgspec.Struct, forbid_unknown_fields=True):
    v: Literal[1]
    ratings: list[msgspec.Raw]      # validated one by one: one bad record spoils no other
    batch: Code | None = None       # the sender's name for this message, echoed in a
    #                                 whole-message rejection (issue 8)


class Rejection(msgspec.Struct, frozen=True):
    id: str
    reason: str


class Ack(msgspec.Struct, forbid_unknown_fields=True):
    v: Literal[1]
    stored: list[str]
    rejected: list[Rejection]
    server_time: float              # lets the kiosk estimate its clock skew
    batch: str | None = None        # set when the whole message was rejected: its batch
    #                                 id; ``rejected`` then names every id it covered
    batch_reason: str | None = None  # and why (also when no id could be read)


class Status(msgspec.Struct, forbid_unknown_fields=True):
    """The kiosk's retained health message; the last will sets ``online`` false."""
    v: Literal[1]
    online: bool
    kiosk: Id
    # Every text bounded: the fleet page and the store show what a kiosk says of itself.
    version: Annotated[str, msgspec.Meta(max_length=40)] = ""
    at: float = 0.0                 # kiosk wall clock when sent
    clock_synced: bool = False
    boot_id: Annotated[str, msgspec.Meta(max_length=64)] = ""
    mono: float = 0.0               # seconds since boot when sent: anchors the boot in time
    backlog: int = 0
    rejected: int = 0
    disk_free_mb: float | None = None
    last_error: Annotated[str, msgspec.Meta(max_length=MAX_STATUS_TEXT)] | None = None
    last_ack_server_time: float | None = None
    last_ack_at: float | None = None
    config_revision: int | None = None  # the server config the kiosk holds
    # why the server last refused one of ours
    last_rejected_reason: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # this device (sync/instance.py): two devices with one identity show as two
    instance: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    # wrong technician PINs in the last 24 h (kiosk/pinguard.py)
    pin_failures: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class Session(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A transaction starts at the counter (from the queue system or the official):
    the next rating at this kiosk is for it."""
    v: Literal[1]
    transaction: Text
    official: Id | None = None
    dossier: Text | None = None
    procedure: Text | None = None
    field: Text | None = None
    at: float | None = None          # server / queue-system time the session was opened
    id: Text | None = None           # the server's session id (issue 9)
    expires_at: float | None = None  # absolute server time after which it is not used


class Official(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: Id
    name: Text
    title: Text | None = None        # e.g. "Công chức Tư pháp - Hộ tịch"
    photo: Annotated[str, msgspec.Meta(max_length=500)] | None = None  # http(s) URL


class ReasonLabel(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    code: Code
    vi: Text
    en: Text = ""


# The five SIPAS factors (Bộ Nội vụ's method, docs/leader-guide.md), in their order.
SIPAS_FACTORS = ("access", "procedure", "official", "result", "feedback")


class SurveyQuestion(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    code: Code
    factor: Code                    # one of SIPAS_FACTORS (another code: its own index)
    vi: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    en: Text = ""


class LevelLabel(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    vi: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    en: Text = ""


class Survey(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The SIPAS survey a kiosk asks after the rating, one question per screen."""
    questions: Annotated[list[SurveyQuestion], msgspec.Meta(min_length=1, max_length=12)]
    scale: Annotated[int, msgspec.Meta(ge=3, le=5)] = 4
    # the answer levels' words, best first (as the rating's); None: the rating's own
    levels: Annotated[list[LevelLabel], msgspec.Meta(min_length=3, max_length=5)] | None = None


class KioskConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The server's retained config for one kiosk; a higher ``revision`` wins."""
    v: Literal[1]
    revision: Annotated[int, msgspec.Meta(ge=1)]
    counter_name: Text = ""
    officials: Annotated[list[Official], msgspec.Meta(max_length=200)] = []
    on_duty: Id | None = None
    scale: Annotated[int, msgspec.Meta(ge=3, le=5)] = 4
    mode: Literal["always", "transaction"] = "always"
    low_reasons: Annotated[list[ReasonLabel], msgspec.Meta(max_length=12)] | None = None
    high_reasons: Annotated[list[ReasonLabel], msgspec.Meta(max_length=12)] | None = None
    # what the consent sentence promises: the server's own retention of call-back numbers
    contact_retention_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None
    # the technician PIN, set per kiosk on the server; only its hash (hailong/pin.py)
    tech_pin_hash: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    # SIPAS survey mode (issue 12); UNSET when off, so a config without a survey still
    # reaches kiosks that predate it (they refuse unknown fields)
    survey: Survey | msgspec.UnsetType = msgspec.UNSET


_encoder = msgspec.json.Encoder()
_batch_decoder = msgspec.json.Decoder(Batch)
_rating_decoder = msgspec.json.Decoder(Rating)


def encode(obj) -> bytes:
    return _encoder.encode(obj)


def encode_batch(raw_ratings: list[bytes], batch: str | None = None) -> bytes:
    """Build a batch from records already stored as JSON (no re-encoding)."""
    head = b'{"v":1,"batch":"' + batch.encode() + b'",' if batch else b'{"v":1,'
    return head + b'"ratings":[' + b",".join(raw_ratings) + b"]}"


# Whole-message rejections: the records themselves may be fine, the message was not.
WHOLE_MESSAGE_REASONS = ("oversize", "bad-batch", "empty-batch")
# What a batch adds around its records: '{"v":1,"batch":"<40>","ratings":[' and ']}'.
BATCH_OVERHEAD = 64


def batch_fits(record_sizes: list[int]) -> bool:
    """Would records of these JSON sizes fit in one message the server accepts?"""
    return (len(record_sizes) <= MAX_BATCH_RECORDS and
            sum(record_sizes) + len(record_sizes) + BATCH_OVERHEAD <= MAX_BATCH_BYTES)


_ID_IN_RECORD = re.compile(
    rb'[{,]\s*"id"\s*:\s*"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"')
_BATCH_ID = re.compile(rb'"batch"\s*:\s*"([a-z0-9_-]{1,40})"')


def message_ids(payload: bytes, limit: int = 2 * MAX_BATCH_RECORDS
                ) -> tuple[str | None, list[str]]:
    """Best effort, for a message rejected whole: its batch id and the record ids it
    seems to carry (read from the raw bytes: the message may not even be JSON), so the
    ack can name them and the sender stops re-sending them blindly."""
    found = _BATCH_ID.search(payload[:4096])
    ids: list[str] = []
    seen: set[str] = set()
    for m in _ID_IN_RECORD.finditer(payload):
        rid = m.group(1).decode()
        if rid not in seen:
            seen.add(rid)
            ids.append(rid)
            if len(ids) >= limit:
                break
    return (found.group(1).decode() if found else None), ids


def decode_batch(payload: bytes) -> list[bytes]:
    """Return the raw records of a batch, or raise ContractError for the whole message."""
    if len(payload) > MAX_BATCH_BYTES:
        raise ContractError("oversize", f"{len(payload)} bytes")
    try:
        batch = _batch_decoder.decode(payload)
    except msgspec.DecodeError as e:
        raise ContractError("bad-batch", str(e)[:200]) from None
    if not batch.ratings:
        raise ContractError("empty-batch")
    if len(batch.ratings) > MAX_BATCH_RECORDS:
        raise ContractError("oversize", f"{len(batch.ratings)} records")
    return [bytes(r) for r in batch.ratings]


def decode_rating(raw: bytes, commune: str, kiosk: str) -> Rating:
    """Validate one record against the contract and the topic it came on."""
    try:
        rating = _rating_decoder.decode(raw)
    except msgspec.ValidationError as e:
        raise ContractError("invalid", str(e)[:200]) from None
    except msgspec.DecodeError as e:
        raise ContractError("bad-json", str(e)[:200]) from None
    if rating.kiosk != kiosk or rating.commune != commune:
        raise ContractError("wrong-kiosk", f"record says {rating.commune}/{rating.kiosk}")
    if rating.score > rating.scale:
        raise ContractError("invalid", f"score {rating.score} above scale {rating.scale}")
    if rating.survey:
        questions = [a.q for a in rating.survey]
        if len(set(questions)) != len(questions):
            raise ContractError("invalid", "a survey question answered twice")
        for answer in rating.survey:
            if answer.level > answer.scale:
                raise ContractError("invalid", f"survey level {answer.level} above scale "
                                    f"{answer.scale}")
    return rating


def check_time(wall: float, synced: bool, mono: float, received_at: float) -> None:
    """The time rules (sync/timerules.py) for one record's or status's own fields,
    against the server's clock at receipt; raises ContractError with the reason."""
    verdict = timerules.reading_rule(wall, synced, mono, received_at)
    if verdict:
        raise ContractError(*verdict)


def check_rating_time(rating: Rating, received_at: float) -> None:
    check_time(rating.created_at, rating.clock_synced, rating.mono, received_at)


def check_status_time(status: Status, received_at: float) -> None:
    """A status without clock facts (an old kiosk's will) says nothing to judge."""
    if status.mono or status.clock_synced:
        check_time(status.at, status.clock_synced, status.mono, received_at)


def record_id_of(raw: bytes) -> str | None:
    """Best effort: the id of a record that failed validation, to reject it by id."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    rid = value.get("id") if isinstance(value, dict) else None
    return rid if isinstance(rid, str) and len(rid) <= 64 else None


def fingerprint(rating: Rating) -> str:
    """Content hash of a validated record (defaults filled, fields in contract order),
    so the same id arriving with other content can be told from a plain re-send."""
    return hashlib.sha256(_encoder.encode(rating)).hexdigest()[:32]


def _decoder(kind, reason: str | None = None):
    """A strict decoder for one message kind; what fails is a ContractError with
    ``reason`` (default ``bad-<kind>``)."""
    decoder = msgspec.json.Decoder(kind)
    reason = reason or f"bad-{kind.__name__.lower()}"

    def decode(payload: bytes):
        try:
            return decoder.decode(payload)
        except msgspec.DecodeError as e:
            raise ContractError(reason, str(e)[:200]) from None
    return decode


decode_session = _decoder(Session)
decode_config = _decoder(KioskConfig)


decode_ack = _decoder(Ack)
decode_status = _decoder(Status)


# --- the province (issue 12): what a commune forwards, and nothing more -------------------
# Topics on the province broker: ``hailong/v1/province/{commune}/ratings`` (commune ->
# province) and ``.../acks`` (province -> commune). The commune's broker account is named
# by its commune id, so the province ACL lets each write only its own topic.

PROVINCE_PREFIX = f"{PREFIX}/province"


def province_topic(commune: str, kind: str) -> str:
    assert kind in ("ratings", "acks"), kind
    return f"{PROVINCE_PREFIX}/{commune}/{kind}"


def parse_province_topic(name: str) -> tuple[str, str]:
    """``hailong/v1/province/{c}/{kind}`` -> (commune, kind)."""
    parts = name.split("/")
    if (len(parts) != 5 or "/".join(parts[:3]) != PROVINCE_PREFIX
            or parts[4] not in ("ratings", "acks") or not valid_id(parts[3])):
        raise ContractError("bad-topic", name[:200])
    return parts[3], parts[4]


class ForwardedRating(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The allow-list of a rating's fields that leave the commune. No contact, no free
    text (dossier code, procedure and field names, transaction ids are text written by
    other systems and may name a person), no device internals (boot id, monotonic
    time). Only ids, codes, numbers and the commune's own judgement of the time."""
    id: Uuid
    commune: Id
    kiosk: Id
    counter: Id
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    scale: Annotated[int, msgspec.Meta(ge=3, le=5)]
    occurred_at: Timestamp          # the commune server's placement in time
    official: Id | None = None
    reasons: Annotated[list[Code], msgspec.Meta(max_length=12)] = []
    time_source: Code | None = None
    suspect: bool = False           # flagged by the kiosk or the commune's own rules
    # The SIPAS survey answers given after this rating (issue 12): question and factor
    # codes and levels only, never text. UNSET (not []) so that a rating without a
    # survey encodes exactly as before and an old province keeps accepting it; one with
    # answers is refused by an old province ("invalid: Object contains unknown field
    # `survey`"), named in its ack as rejected.
    survey: Annotated[list[SurveyAnswer], msgspec.Meta(max_length=12)] | msgspec.UnsetType \
        = msgspec.UNSET


class ForwardBatch(msgspec.Struct, forbid_unknown_fields=True):
    v: Literal[1]
    batch: Code
    # validated one by one (decode_forwarded): one bad record spoils no other
    ratings: Annotated[list[msgspec.Raw], msgspec.Meta(max_length=MAX_BATCH_RECORDS)]


def encode_forward_batch(batch: str, records: list[ForwardedRating]) -> bytes:
    return encode(ForwardBatch(v=1, batch=batch,
                               ratings=[msgspec.Raw(encode(r)) for r in records]))


class ForwardAck(msgspec.Struct, forbid_unknown_fields=True):
    """The province's answer, after its commit: every id it now holds from the batch
    (a duplicate is stored already, so acked too), and the ids it refused."""
    v: Literal[1]
    batch: str
    stored: list[str]
    rejected: list[Rejection] = []


_forward_batch_decoder = msgspec.json.Decoder(ForwardBatch)
_forwarded_decoder = msgspec.json.Decoder(ForwardedRating)


def decode_forwarded(raw: bytes) -> ForwardedRating:
    try:
        return _forwarded_decoder.decode(raw)
    except msgspec.DecodeError as e:
        raise ContractError("invalid", str(e)[:200]) from None


def decode_forward_batch(payload: bytes) -> ForwardBatch:
    if len(payload) > MAX_BATCH_BYTES:
        raise ContractError("oversize", f"{len(payload)} bytes")
    try:
        return _forward_batch_decoder.decode(payload)
    except msgspec.DecodeError as e:
        raise ContractError("bad-batch", str(e)[:200]) from None


decode_forward_ack = _decoder(ForwardAck, "bad-ack")
