"""Build the digest's email (pure) and send it over SMTP, once per recipient, with a ledger (EDGE).

Delivery guarantee. Every recipient gets one message of its own (To: that recipient). Before each
attempt the send ledger in the state database records the recipient as "pending"; right after the
server accepts the message (250 after DATA) it records "sent". A later `digest send` for the same
edition sends only to recipients not recorded as "sent". The one window for a duplicate is a crash
(or lost connection) after the server accepted a message and before the ledger write committed: the
next run sends that recipient the same message again, so at most one duplicate per recipient. The
duplicate carries the same Message-ID (derived from edition date, recipient and sender domain), so
mail programs that suppress duplicate Message-IDs show it once. Nothing is ever lost silently: a
recipient not served is recorded "failed" with the last error and counted in the run's summary.
Every recipient of an edition reads the same letter: pipeline.send keeps it in the state before
the first message goes out and sends exactly that to everyone after (store.editions.freeze).
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr

from digest import retry
from digest.config import EmailConfig
from digest.errors import ConfigError, MailError
from digest.store.sends import Sends

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "ssl", "none")
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Every control character, CR and LF included: none may reach a header value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


# --- Recipients and settings (pure) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient: the address as written (for To:) and its case-folded key for the ledger."""

    address: str
    display_name: str = ""

    @property
    def key(self) -> str:
        return self.address.lower()


def clean_header(value: str) -> str:
    """A header value on one line: control characters (CR, LF, tabs, ...) become single spaces."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()


def parse_address(value: str) -> Recipient:
    """One address ("a@example.org" or "Name <a@example.org>"); ValueError says what is wrong."""
    if _CONTROL.search(value):
        raise ValueError(f"control characters in address {value.strip()!r}")
    if len(getaddresses([value])) != 1:
        raise ValueError(f"more than one address in {value.strip()!r}")
    name, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or ("@" in local and not local.startswith('"'))
        or any(c.isspace() for c in address)
        or domain.startswith(".")
        or domain.endswith(".")
        or ".." in domain
        or ("." not in domain and domain.lower() != "localhost")
    ):
        raise ValueError(f"not an email address: {value.strip()!r}")
    return Recipient(address=address, display_name=clean_header(name))


def parse_recipients_file(text: str, source: str) -> tuple[Recipient, ...]:
    """One address a line; blank lines and '#' comments (whole line or after a space) ignored."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not content:
            continue
        try:
            found.append(parse_address(content))
        except ValueError as error:
            raise ConfigError(f"{source}:{number}: {error}") from None
    return tuple(found)


def unique_recipients(recipients: Iterable[Recipient]) -> tuple[Recipient, ...]:
    """The first spelling of each address wins; addresses compare case-insensitively."""
    seen: dict[str, Recipient] = {}
    for recipient in recipients:
        seen.setdefault(recipient.key, recipient)
    return tuple(seen.values())


def load_recipients(config: EmailConfig) -> tuple[Recipient, ...]:
    """Inline `to` plus the recipients file, validated and deduplicated."""
    inline = []
    for value in config.to:
        try:
            inline.append(parse_address(value))
        except ValueError as error:
            raise ConfigError(f"email.to: {error}") from None
    from_file: tuple[Recipient, ...] = ()
    if config.recipients_file is not None:
        try:
            text = config.recipients_file.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError(
                f"{config.recipients_file}: cannot read recipients: {error.strerror}"
            ) from None
        from_file = parse_recipients_file(text, str(config.recipients_file))
    found = unique_recipients([*inline, *from_file])
    if not found:
        raise ConfigError("email: no recipients (set `to` or `recipients_file`)")
    return found


def check_settings(config: EmailConfig) -> Recipient:
    """The sender, once the settings that sending needs are present and consistent."""
    if not config.host:
        raise ConfigError("email.host is empty: set the SMTP server to send")
    if config.security not in SECURITY_MODES:
        raise ConfigError(f"email.security must be one of {', '.join(SECURITY_MODES)}")
    if config.security == "none" and config.host.lower() not in LOCAL_HOSTS:
        raise ConfigError(
            f'email.security = "none" is allowed only for localhost, not {config.host!r}'
        )
    if not 0 < config.port < 65536:
        raise ConfigError(f"email.port {config.port} is out of range")
    if config.batch_size < 1 or config.per_minute < 0 or config.retries < 0:
        raise ConfigError("email.batch_size must be >= 1, per_minute and retries >= 0")
    try:
        return parse_address(config.sender)
    except ValueError as error:
        raise ConfigError(f"email.from: {error}") from None


def read_password(config: EmailConfig, environ: Mapping[str, str]) -> str | None:
    """The SMTP password from `password_file` or the variable `password_env`; None without login."""
    if not config.username:
        return None
    if config.password_file is not None:
        try:
            password = config.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ConfigError(
                f"{config.password_file}: cannot read the SMTP password: {error.strerror}"
            ) from None
        if password:
            return password
        raise ConfigError(f"{config.password_file}: the SMTP password file is empty")
    password = environ.get(config.password_env, "")
    if not password:
        raise ConfigError(
            f"email.username is set but the environment variable {config.password_env}"
            " (email.password_env) is empty; set it or email.password_file"
        )
    return password


# --- The message (pure) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letter:
    """What every recipient of one edition reads: subject and both bodies. `revision` counts
    the editions of one date (a new edition of a date already sent is revision 2, ...)."""

    day: date
    subject: str
    text: str
    html: str
    revision: int = 1


def make_subject(template: str, day: date, long_date: str, title: str = "") -> str:
    """The subject from its template ({date}: the German long date, {title}: the digest title)."""
    try:
        return clean_header(template.format(date=long_date, title=title, iso_date=day.isoformat()))
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(f"email.subject: bad placeholder in {template!r}: {error}") from None


def message_id(day: date, recipient_key: str, sender: Recipient, revision: int = 1) -> str:
    """Stable for one edition and recipient, so a resend is recognisable as the same message;
    a new edition of the same date (revision 2, ...) is a new message."""
    digest = hashlib.sha256(recipient_key.encode("utf-8")).hexdigest()[:20]
    domain = sender.address.rpartition("@")[2] or "localhost"
    edition = day.isoformat() if revision == 1 else f"{day.isoformat()}.r{revision}"
    return f"<sipo-digest.{edition}.{digest}@{domain}>"


def build_message(
    letter: Letter,
    *,
    sender: Recipient,
    to: Recipient,
    config: EmailConfig,
    now: datetime,
) -> EmailMessage:
    """One multipart/alternative message (text first, then HTML) to one recipient."""
    utf8 = not (sender.address + to.address).isascii()
    message = EmailMessage(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    _set_subject(message, clean_header(letter.subject))
    message["From"] = _address_header(sender)
    message["To"] = _address_header(to)
    if config.reply_to:
        try:
            message["Reply-To"] = _address_header(parse_address(config.reply_to))
        except ValueError as error:
            raise ConfigError(f"email.reply_to: {error}") from None
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(letter.day, to.key, sender, letter.revision)
    if config.list_id:
        message["List-Id"] = _angle(clean_header(config.list_id))
    if config.list_unsubscribe:
        message["List-Unsubscribe"] = ", ".join(
            _angle(part.strip()) for part in clean_header(config.list_unsubscribe).split(",")
        )
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(letter.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(letter.html, subtype="html", charset="utf-8", cte="quoted-printable")
    # After the bodies: set_content() drops every Content-* header set before it.
    message["Content-Language"] = "de"
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    """Subject as RFC 2047 words when it is not ASCII.

    The modern header folder drops a space that falls between two encoded words when it folds a
    long non-ASCII subject; the classic `Header` encoder keeps it, and `set_raw` stores its
    already folded lines as they are (they stay under the line limit, so they are not refolded).
    """
    if subject.isascii():
        message["Subject"] = subject
    else:
        encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")
        message.set_raw("Subject", encoded)


def _address_header(recipient: Recipient) -> Address:
    return Address(display_name=clean_header(recipient.display_name), addr_spec=recipient.address)


def _angle(value: str) -> str:
    return value if "<" in value else f"<{value}>"


# --- Sending (EDGE: SMTP) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Undelivered:
    """A recipient this run did not serve, with the server's (or the connection's) last word."""

    address: str
    error: str


@dataclass(frozen=True, slots=True)
class SendReport:
    """What one `digest send` did for one edition."""

    day: date
    total: int
    already_sent: int
    served: tuple[str, ...]
    failed: tuple[Undelivered, ...]
    aborted: str | None = None
    dry_run: bool = False
    pending: tuple[str, ...] = ()

    @property
    def unserved(self) -> int:
        """Recipients who still have no accepted message for this edition."""
        return self.total - self.already_sent - len(self.served)

    @property
    def ok(self) -> bool:
        return self.unserved == 0 or self.dry_run

    def summary(self) -> str:
        """One German line for the operator."""
        if self.dry_run:
            return (
                f"Probelauf: {len(self.pending)} von {self.total} Empfängern würden die Ausgabe "
                "erhalten, nichts versandt"
            )
        if self.unserved:
            return f"{self.unserved} von {self.total} Empfängern nicht erreicht"
        if not self.served:
            return f"Bereits an alle {self.total} Empfänger versandt, nichts erneut gesendet"
        return f"An {len(self.served)} von {self.total} Empfängern versandt"


class _Transient(MailError):
    """A failure worth another try: a 4xx reply, a dropped or refused connection."""

    def __init__(self, message: str, *, connecting: bool = False) -> None:
        super().__init__(message)
        self.connecting = connecting


class _Permanent(MailError):
    """A failure for this one recipient (5xx): recorded, the others are still served."""


def deliver(
    letter: Letter,
    recipients: Sequence[Recipient],
    sends: Sends,
    config: EmailConfig,
    *,
    now: datetime,
    password: str | None,
    ssl_context: ssl.SSLContext | None = None,
    backoff: float = 5.0,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> SendReport:
    """Send `letter` to every recipient the ledger does not list as sent for `letter.day`."""
    sender = check_settings(config)
    todo = _unsent(letter, recipients, sends)
    already = len(recipients) - len(todo)
    context = ssl_context or ssl.create_default_context()
    session = _Session(lambda: _connect(config, password, context, timeout))
    pace = _Pacer(config.per_minute, sleep, clock)
    served: list[str] = []
    failed: list[Undelivered] = []
    aborted: str | None = None
    try:
        for index, recipient in enumerate(todo):
            if index and index % config.batch_size == 0:
                session.close()
            message = build_message(letter, sender=sender, to=recipient, config=config, now=now)
            try:
                pace.wait()
                _send_with_retries(
                    session,
                    message,
                    sender,
                    recipient,
                    sends,
                    letter,
                    config.retries,
                    backoff=backoff,
                    sleep=sleep,
                    wall=wall,
                )
            except _Permanent as error:
                failed.append(Undelivered(recipient.address, str(error)))
                continue
            except MailError as error:
                # The connection itself failed (unreachable, TLS, login refused): stop here.
                aborted, rest = str(error), todo[index:]
                sends.failed(letter.day, letter.revision, [r.key for r in rest], wall(), aborted)
                failed.extend(Undelivered(r.address, aborted) for r in rest)
                break
            served.append(recipient.address)
    finally:
        session.close()
    report = SendReport(
        day=letter.day,
        total=len(recipients),
        already_sent=already,
        served=tuple(served),
        failed=tuple(failed),
        aborted=aborted,
    )
    log.info("send %s: %s", letter.day.isoformat(), report.summary())
    return report


def plan(letter: Letter, recipients: Sequence[Recipient], sends: Sends) -> SendReport:
    """A dry run: who would receive the edition now, without connecting or touching the ledger."""
    pending = tuple(r.address for r in _unsent(letter, recipients, sends))
    return SendReport(
        day=letter.day,
        total=len(recipients),
        already_sent=len(recipients) - len(pending),
        served=(),
        failed=(),
        dry_run=True,
        pending=pending,
    )


def _unsent(letter: Letter, recipients: Sequence[Recipient], sends: Sends) -> list[Recipient]:
    """The recipients the ledger does not list as served with this edition, in their order."""
    todo = set(sends.unsent(letter.day, [r.key for r in recipients], letter.revision))
    return [r for r in recipients if r.key in todo]


def _send_with_retries(
    session: _Session,
    message: EmailMessage,
    sender: Recipient,
    recipient: Recipient,
    sends: Sends,
    letter: Letter,
    retries: int,
    *,
    backoff: float,
    sleep: Callable[[float], None],
    wall: Callable[[], datetime],
) -> None:
    """Raises _Permanent when this recipient cannot be served, MailError when nobody can."""
    day, revision = letter.day, letter.revision
    for attempt in retry.attempts(retries, backoff):
        sends.attempt(day, revision, recipient.key, wall())
        try:
            connection = session.connection()
            _send_one(connection, message, sender.address, recipient.address)
        except _Transient as error:
            session.drop_if_broken()
            if attempt.last:
                sends.failed(day, revision, [recipient.key], wall(), str(error))
                gave_up = f"{error} (gave up after {retries + 1} attempts)"
                if error.connecting:
                    raise MailError(gave_up) from None
                raise _Permanent(gave_up) from None
            log.warning("transient failure for %s, retrying: %s", recipient.address, error)
            sleep(attempt.wait())
            continue
        except MailError as error:
            sends.failed(day, revision, [recipient.key], wall(), str(error))
            raise
        # The server accepted the message: record it before anything else can fail.
        sends.accepted(day, revision, recipient.key, wall(), message["Message-ID"])
        return


def _send_one(connection: smtplib.SMTP, message: EmailMessage, sender: str, to: str) -> None:
    """Hand one message to the server; classify the refusal as transient or permanent."""
    try:
        connection.send_message(message, from_addr=sender, to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = error.recipients.get(to, (550, b"recipient refused"))
        raise _classified(code, reply, f"recipient {to} refused") from None
    except smtplib.SMTPResponseException as error:
        raise _classified(error.smtp_code, error.smtp_error, "server refused the message") from None
    except smtplib.SMTPNotSupportedError as error:
        raise _Permanent(f"server cannot take this address ({error})") from None
    except (smtplib.SMTPException, OSError) as error:
        raise _Transient(f"connection lost while sending: {error}") from None


def _classified(code: int, reply: bytes | str, what: str, *, connecting: bool = False) -> MailError:
    """4xx: worth another try; 5xx: final, for this recipient or (when connecting) for all."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{what}: {code} {clean_header(text)}"
    if 400 <= code < 500:
        return _Transient(message, connecting=connecting)
    return MailError(message) if connecting else _Permanent(message)


def _connect(
    config: EmailConfig, password: str | None, context: ssl.SSLContext, timeout: float
) -> smtplib.SMTP:
    """An open, secured and logged-in connection; failures become one line with a hint."""
    where = f"{config.host}:{config.port}"
    smtp: smtplib.SMTP | None = None
    try:
        if config.security == "ssl":
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        smtp.ehlo()
        if config.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, password or "")
        return smtp
    except ssl.SSLError as error:
        _close(smtp)
        raise MailError(
            f"TLS with SMTP server {where} failed: {error.reason or error}"
            " (check email.security and email.port, and that the server's certificate is valid"
            " for this host)"
        ) from None
    except smtplib.SMTPAuthenticationError as error:
        _close(smtp)
        raise MailError(
            f"SMTP server {where} refused the login of {config.username!r}: {error.smtp_code}"
            f" (check email.username and the password in ${config.password_env} or"
            " email.password_file)"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        _close(smtp)
        raise MailError(
            f"SMTP server {where} does not offer what email.security/username need: {error}"
            " (check email.security; most servers allow login only after STARTTLS or SSL)"
        ) from None
    except smtplib.SMTPResponseException as error:
        _close(smtp)
        raise _classified(
            error.smtp_code, error.smtp_error, f"SMTP server {where}", connecting=True
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        _close(smtp)
        raise _Transient(
            f"SMTP server {where} unreachable: {error or type(error).__name__}"
            " (check email.host, email.port and the network)",
            connecting=True,
        ) from None


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


class _Session:
    """One SMTP connection, opened on demand and reopened after the server dropped it."""

    def __init__(self, open_connection: Callable[[], smtplib.SMTP]) -> None:
        self._open = open_connection
        self._smtp: smtplib.SMTP | None = None

    def connection(self) -> smtplib.SMTP:
        if self._smtp is None or self._smtp.sock is None:
            self._smtp = None
            self._smtp = self._open()
        return self._smtp

    def drop_if_broken(self) -> None:
        """After a failure: keep a live connection (RSET), forget a dead one."""
        if self._smtp is None:
            return
        try:
            if self._smtp.sock is not None and self._smtp.noop()[0] == 250:
                return
        except (smtplib.SMTPException, OSError):
            pass
        self._smtp.close()
        self._smtp = None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            if self._smtp.sock is not None:
                self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        self._smtp.close()
        self._smtp = None


class _Pacer:
    """At most `per_minute` messages a minute (0: no limit), spaced evenly."""

    def __init__(
        self, per_minute: int, sleep: Callable[[float], None], clock: Callable[[], float]
    ) -> None:
        self._interval = 60.0 / per_minute if per_minute else 0.0
        self._sleep = sleep
        self._clock = clock
        self._last: float | None = None

    def wait(self) -> None:
        if self._interval and self._last is not None:
            remaining = self._last + self._interval - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()


def archive_copy(letter: Letter, *, config: EmailConfig, now: datetime) -> EmailMessage:
    """The message as written to out/: addressed to the sender, so no reader's address is kept."""
    sender = parse_address(config.sender)
    return build_message(letter, sender=sender, to=sender, config=config, now=now)
