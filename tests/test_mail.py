"""Email delivery: built pure, sent once per recipient to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import email
import email.utils
import json
import logging
import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import mail, pipeline
from digest.cli import main
from digest.config import Config, EmailConfig
from digest.errors import ConfigError, MailError
from digest.store import Store

DATA = Path(__file__).resolve().parent / "data" / "mail"
DAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 5, 30, tzinfo=UTC)
USER = "briefing"
PASSWORD = "Geheim-7f3a-Passwort"
PASSWORD_ENV = "SIPO_TEST_SMTP_PASSWORD"
GERMAN_SUBJECT = "Sicherheitspolitisches Briefing – Sonntag, 29. November 2026"


# --- A real SMTP server on 127.0.0.1 ---------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    peer: Any

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    """The server's behaviour: replies scripted per recipient or for the next DATA commands."""

    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(
            Received(
                envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, session.peer
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls() -> Tls:
    """A certificate for 127.0.0.1 signed by a CA made for these tests; the client trusts it."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return Tls(server=server, client=client)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server(tls: Tls) -> Iterator[Callable[..., tuple[Mailbox, int]]]:
    """`smtp_server(security, port=None)` starts aiosmtpd; every server stops after the test."""
    started: list[Controller] = []

    def start(
        security: str = "starttls", port: int | None = None, mailbox: Mailbox | None = None
    ) -> tuple[Mailbox, int]:
        mailbox = mailbox or Mailbox()
        port = port or free_port()
        options: dict[str, Any] = {"authenticator": _authenticate}
        if security == "starttls":
            options.update(tls_context=tls.server, require_starttls=True, auth_require_tls=True)
        elif security == "ssl":
            options.update(ssl_context=tls.server, auth_require_tls=False)
        else:
            options.update(auth_require_tls=False)
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        started.append(controller)
        return mailbox, port

    yield start
    for controller in started:
        controller.stop()


def make_config(tmp_path: Path, port: int, **email: Any) -> Config:
    """Settings for a server on 127.0.0.1 and an out/ holding the built edition of DAY."""
    out = tmp_path / "out"
    if not (out / DAY.isoformat()).exists():
        shutil.copytree(DATA / "edition", out / DAY.isoformat())
    settings = {
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "username": USER,
        "password_env": PASSWORD_ENV,
        "sender": "Lagebild Süd <briefing@example.org>",
        "reply_to": "Redaktion <redaktion@example.org>",
        "to": ("a@example.org", "b@example.org", "c@example.org"),
        "list_id": "Sicherheitspolitisches Briefing <briefing.example.org>",
        "list_unsubscribe": "mailto:abmelden@example.org",
        **email,
    }
    return Config(out_dir=out, state_dir=out.parent / "state", email=EmailConfig(**settings))


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def send(config: Config, tls: Tls, **options: Any) -> mail.SendReport:
    return pipeline.send(config, day=DAY, now=NOW, ssl_context=tls.client, backoff=0.001, **options)


def statuses(config: Config) -> dict[str, tuple[str, int, str | None]]:
    with Store.open(config.state_path) as store:
        return store.sends.by_recipient(DAY)


# --- Recipients and settings -----------------------------------------------------------------


def test_recipients_file_skips_comments_blank_lines_and_case_insensitive_duplicates() -> None:
    found = mail.load_recipients(EmailConfig(recipients_file=DATA / "recipients.txt"))
    assert [r.address for r in found] == [
        "leitung@example.org",
        "referat@example.org",
        "presse@example.net",
        "lage+morgen@example.com",
    ]
    assert found[1].display_name == "Referat Sicherheitspolitik"


def test_inline_and_file_recipients_are_merged_first_spelling_wins() -> None:
    config = EmailConfig(to=("Leitung@Example.org",), recipients_file=DATA / "recipients.txt")
    found = mail.load_recipients(config)
    assert [r.address for r in found][:2] == ["Leitung@Example.org", "referat@example.org"]
    assert len(found) == 4


def test_bad_recipient_line_is_named_with_file_and_line() -> None:
    with pytest.raises(ConfigError, match=r"recipients-bad\.txt:3: not an email address"):
        mail.load_recipients(EmailConfig(recipients_file=DATA / "recipients-bad.txt"))


def test_no_recipients_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no recipients"):
        mail.load_recipients(EmailConfig())


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a",
        "a@",
        "@example.org",
        "a b@example.org",
        "a@example",
        "a@.example.org",
        "a@example..org",
        "a@example.org, b@example.org",
        "a@example.org\r\nBcc: evil@x.example",
    ],
)
def test_invalid_addresses_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        mail.parse_address(value)


def test_security_none_is_refused_for_a_remote_host() -> None:
    config = EmailConfig(host="smtp.example.org", security="none", sender="a@example.org")
    with pytest.raises(ConfigError, match="only for localhost"):
        mail.check_settings(config)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_security_none_is_allowed_for_localhost(host: str) -> None:
    config = EmailConfig(host=host, security="none", sender="a@example.org")
    assert mail.check_settings(config).address == "a@example.org"


def test_unknown_security_mode_is_refused() -> None:
    config = EmailConfig(host="smtp.example.org", security="tls", sender="a@example.org")
    with pytest.raises(ConfigError, match="security"):
        mail.check_settings(config)


def test_password_comes_from_the_named_environment_variable() -> None:
    config = EmailConfig(username=USER, password_env="MY_SMTP")
    assert mail.read_password(config, {"MY_SMTP": "s3cret"}) == "s3cret"


def test_password_file_wins_and_loses_its_line_end(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("aus-der-datei\n", encoding="utf-8")
    config = EmailConfig(username=USER, password_file=secret)
    assert mail.read_password(config, {"DIGEST_SMTP_PASSWORD": "env"}) == "aus-der-datei"


def test_missing_password_names_the_variable_to_set() -> None:
    with pytest.raises(ConfigError, match="DIGEST_SMTP_PASSWORD"):
        mail.read_password(EmailConfig(username=USER), {})


def test_no_username_means_no_login_and_no_password_needed() -> None:
    assert mail.read_password(EmailConfig(), {}) is None


# --- The message (pure) ----------------------------------------------------------------------


def letter(subject: str = GERMAN_SUBJECT) -> mail.Letter:
    edition = DATA / "edition"
    return mail.Letter(
        day=DAY,
        subject=subject,
        text=(edition / "digest.txt").read_text(encoding="utf-8"),
        html=(edition / "digest.html").read_text(encoding="utf-8"),
    )


def built(
    config: EmailConfig, to: str = "a@example.org", subject: str = GERMAN_SUBJECT
) -> EmailMessage:
    message = mail.build_message(
        letter(subject),
        sender=mail.parse_address(config.sender),
        to=mail.parse_address(to),
        config=config,
        now=NOW,
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_is_text_then_html_in_utf8_with_german_headers(tmp_path: Path) -> None:
    message = built(make_config(tmp_path, 25).email)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert "Bundestag berät" in parts[0].get_content()
    assert "<h2>Verteidigung</h2>" in parts[1].get_content()
    assert message["Subject"] == GERMAN_SUBJECT
    assert message["From"].addresses[0].display_name == "Lagebild Süd"
    assert message["Reply-To"] == "Redaktion <redaktion@example.org>"
    assert message["Content-Language"] == "de"
    assert message["List-Id"] == "Sicherheitspolitisches Briefing <briefing.example.org>"
    assert message["List-Unsubscribe"] == "<mailto:abmelden@example.org>"
    assert message["Date"].datetime == NOW


def test_headers_on_the_wire_are_ascii_with_lines_under_78_characters(tmp_path: Path) -> None:
    long_subject = GERMAN_SUBJECT + " – Sonderausgabe zur Münchner Sicherheitskonferenz " * 3
    config = make_config(tmp_path, 25).email
    raw = mail.build_message(
        letter(long_subject),
        sender=mail.parse_address(config.sender),
        to=mail.parse_address("a@example.org"),
        config=config,
        now=NOW,
    ).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == mail.clean_header(long_subject)


def test_list_headers_are_left_out_when_not_configured(tmp_path: Path) -> None:
    config = replace(make_config(tmp_path, 25).email, list_id="", list_unsubscribe="", reply_to="")
    message = built(config)
    assert message["List-Id"] is None and message["List-Unsubscribe"] is None
    assert message["Reply-To"] is None


def test_message_id_is_stable_per_edition_and_recipient(tmp_path: Path) -> None:
    config = make_config(tmp_path, 25).email
    first = built(config, to="a@example.org")["Message-ID"]
    assert built(config, to="A@Example.org")["Message-ID"] == first
    assert built(config, to="b@example.org")["Message-ID"] != first
    assert first.endswith("@example.org>")
    assert "a@example.org" not in first


def test_subject_with_newline_cannot_create_a_header(tmp_path: Path) -> None:
    config = replace(
        make_config(tmp_path, 25).email,
        sender="Lagebild\r\nBcc: evil@x.example <briefing@example.org>",
    )
    with pytest.raises(ConfigError):
        mail.check_settings(config)
    message = built(
        make_config(tmp_path, 25).email, subject="Lage\r\nBcc: evil@x.example\nX-Evil: 1"
    )
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["Subject"] == "Lage Bcc: evil@x.example X-Evil: 1"


@given(st.text())
def test_clean_header_never_leaves_a_line_break(value: str) -> None:
    cleaned = mail.clean_header(value)
    assert not any(c in cleaned for c in "\r\n\x0b\x0c\x85\u2028\u2029")
    assert cleaned == cleaned.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_any_subject_and_title_give_one_header_line(prefix: str, title: str) -> None:
    subject = mail.make_subject(
        prefix.replace("{", "").replace("}", "") + "{title}",
        DAY,
        "Sonntag, 29. November 2026",
        title,
    )
    message = mail.build_message(
        letter(subject),
        sender=mail.parse_address("briefing@example.org"),
        to=mail.parse_address("a@example.org"),
        config=EmailConfig(),
        now=NOW,
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == mail.clean_header(subject)
    names = [name.lower() for name in parsed]
    assert len(names) == len(set(names))


def test_subject_template_with_unknown_placeholder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        mail.make_subject("Briefing {datum}", DAY, "Sonntag, 29. November 2026")


# --- Sending to a real server ------------------------------------------------------------------


def test_starttls_with_login_delivers_one_message_per_recipient(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    report = send(config, tls)
    assert report.ok and len(report.served) == 3
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert all(
        len(r.rcpt_tos) == 1 and r.mail_from == "briefing@example.org" for r in mailbox.received
    )
    message = mailbox.to("b@example.org")[0].message
    assert message["Subject"] == GERMAN_SUBJECT
    assert message["To"] == "b@example.org"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert "Haushaltsausschuss prüft" in message.get_body(("plain",)).get_content()
    assert message["Message-ID"] == mail.message_id(
        DAY, "b@example.org", mail.parse_address(config.email.sender)
    )


def test_the_edition_is_written_as_digest_eml_without_readers_addresses(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    _, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    send(config, tls)
    raw = (config.out_dir / DAY.isoformat() / "digest.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == GERMAN_SUBJECT
    assert message["To"].addresses[0].addr_spec == "briefing@example.org"
    assert b"a@example.org" not in raw


def test_sending_twice_delivers_once(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    send(config, tls)
    again = send(config, tls)
    assert len(mailbox.received) == 3
    assert again.ok and again.served == () and again.already_sent == 3
    assert {status for status, _, _ in statuses(config).values()} == {"sent"}


def test_server_down_then_up_delivers_on_the_next_run(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    port = free_port()
    config = make_config(tmp_path, port, retries=1)
    down = send(config, tls)
    assert not down.ok and down.unserved == 3
    assert down.aborted is not None and "unreachable" in down.aborted
    assert down.summary() == "3 von 3 Empfängern nicht erreicht"
    assert {status for status, _, _ in statuses(config).values()} == {"failed"}
    mailbox, _ = smtp_server("starttls", port=port)
    up = send(config, tls)
    assert up.ok and len(up.served) == 3 and len(mailbox.received) == 3


def test_421_is_retried_and_then_delivered_once(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox = Mailbox(data_replies=["421 4.3.2 Service not available, try again later"])
    _, port = smtp_server("starttls", mailbox=mailbox)
    config = make_config(tmp_path, port, to=("a@example.org",))
    report = send(config, tls)
    assert report.ok and report.served == ("a@example.org",)
    assert len(mailbox.received) == 1
    assert statuses(config)["a@example.org"][:2] == ("sent", 2)


def test_4xx_retries_are_bounded_and_the_others_are_still_served(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox = Mailbox(refuse={"a@example.org": "450 4.2.1 Mailbox busy"})
    _, port = smtp_server("starttls", mailbox=mailbox)
    config = make_config(tmp_path, port, retries=2)
    report = send(config, tls)
    assert [u.address for u in report.failed] == ["a@example.org"]
    assert "450" in report.failed[0].error and "3 attempts" in report.failed[0].error
    assert statuses(config)["a@example.org"][:2] == ("failed", 3)
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == ["b@example.org", "c@example.org"]


def test_550_for_one_recipient_leaves_the_others_served_and_the_next_run_retries_only_it(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox = Mailbox(refuse={"b@example.org": "550 5.1.1 No such user"})
    _, port = smtp_server("starttls", mailbox=mailbox)
    config = make_config(tmp_path, port)
    report = send(config, tls)
    assert report.summary() == "1 von 3 Empfängern nicht erreicht"
    assert statuses(config)["b@example.org"] == (
        "failed",
        1,
        "recipient b@example.org refused: 550 5.1.1 No such user",
    )
    mailbox.refuse.clear()
    send(config, tls)
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]


def test_a_title_with_a_newline_cannot_inject_a_header_on_the_wire(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port, to=("a@example.org",), subject="{title} – {date}")
    edition = config.out_dir / DAY.isoformat() / "digest.json"
    data = json.loads(edition.read_text(encoding="utf-8"))
    data["title"] = "Lagebild\r\nBcc: evil@x.example"
    edition.write_text(json.dumps(data), encoding="utf-8")
    send(config, tls)
    (received,) = mailbox.received
    assert received.rcpt_tos == ["a@example.org"]
    assert b"\nBcc:" not in received.content
    message = received.message
    assert message["Bcc"] is None
    assert message["Subject"] == "Lagebild Bcc: evil@x.example – Sonntag, 29. November 2026"


def test_wrong_password_is_one_line_with_a_hint_and_never_shows_the_password(
    tmp_path: Path,
    smtp_server: Callable[..., tuple[Mailbox, int]],
    tls: Tls,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Falsches-Passwort-91c2"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    caplog.set_level(logging.DEBUG)
    report = send(config, tls)
    assert report.aborted is not None
    assert "refused the login" in report.aborted and PASSWORD_ENV in report.aborted
    assert "\n" not in report.aborted
    assert wrong not in report.aborted and wrong not in caplog.text
    assert all(wrong not in (error or "") for _, _, error in statuses(config).values())
    assert mailbox.received == []


def test_untrusted_certificate_is_a_tls_failure_with_a_hint(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    report = pipeline.send(
        config, day=DAY, now=NOW, ssl_context=ssl.create_default_context(), backoff=0.001
    )
    assert report.aborted is not None and report.aborted.startswith("TLS with SMTP server")
    assert "certificate" in report.aborted
    assert mailbox.received == []


def test_login_without_tls_is_refused_by_the_server_with_a_hint(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port, security="none")
    report = send(config, tls)
    assert report.aborted is not None and "email.security" in report.aborted
    assert mailbox.received == []


def test_implicit_tls_delivers(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("ssl")
    report = send(make_config(tmp_path, port, security="ssl"), tls)
    assert report.ok and len(mailbox.received) == 3


def test_large_lists_go_in_batches_one_connection_each(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    recipients = tuple(f"leser{n}@example.org" for n in range(5))
    report = send(make_config(tmp_path, port, to=recipients, batch_size=2), tls)
    assert report.ok
    peers = [r.peer for r in mailbox.received]
    assert len(peers) == 5 and len(set(peers)) == 3


def test_rate_limit_spaces_messages_evenly(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    _, port = smtp_server("none")
    config = make_config(tmp_path, port, security="none", username="", per_minute=30)
    moments = iter(float(n) for n in range(1000))
    waits: list[float] = []
    recipients = mail.load_recipients(config.email)
    with Store.open(config.state_path) as store:
        report = mail.deliver(
            letter(),
            recipients,
            store.sends,
            config.email,
            now=NOW,
            password=None,
            sleep=waits.append,
            clock=lambda: next(moments),
        )
    assert report.ok
    assert len(waits) == 2 and all(1.0 <= wait <= 2.0 for wait in waits)


def test_dry_run_sends_nothing_and_lists_who_would_receive(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]], tls: Tls
) -> None:
    mailbox, port = smtp_server("starttls")
    config = make_config(tmp_path, port)
    report = send(config, tls, dry_run=True)
    assert report.pending == ("a@example.org", "b@example.org", "c@example.org")
    assert mailbox.received == [] and statuses(config) == {}
    assert (config.out_dir / DAY.isoformat() / "digest.eml").exists()


def test_sending_an_edition_that_was_not_built_names_the_command_to_run(tmp_path: Path) -> None:
    config = make_config(tmp_path, 25, security="none", username="")
    with pytest.raises(MailError, match="digest build --date 2026-11-30"):
        pipeline.send(config, day=date(2026, 11, 30), now=NOW)


# --- The command line ----------------------------------------------------------------------------


def write_toml(tmp_path: Path, port: int) -> Path:
    shutil.copytree(DATA / "edition", tmp_path / "out" / DAY.isoformat())
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[digest]
out_dir = "out"

[email]
host = "127.0.0.1"
port = {port}
security = "none"
from = "Lagebild <briefing@example.org>"
to = ["a@example.org", "b@example.org", "c@example.org"]
""",
        encoding="utf-8",
    )
    return path


def test_cli_send_exits_nonzero_with_a_german_summary_when_one_recipient_is_refused(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox = Mailbox(refuse={"b@example.org": "550 5.1.1 No such user"})
    _, port = smtp_server("none", mailbox=mailbox)
    path = write_toml(tmp_path, port)
    result = CliRunner().invoke(main, ["send", "--config", str(path), "--date", "2026-11-29"])
    assert result.exit_code == 1
    assert "1 von 3 Empfängern nicht erreicht" in result.output
    assert "b@example.org" in result.output and "550" in result.output
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == ["a@example.org", "c@example.org"]


def test_cli_send_twice_exits_zero_and_sends_nothing_the_second_time(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox, port = smtp_server("none")
    path = write_toml(tmp_path, port)
    args = ["send", "--config", str(path), "--date", "2026-11-29"]
    first = CliRunner().invoke(main, args)
    second = CliRunner().invoke(main, args)
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "Bereits an alle 3 Empfänger versandt" in second.output
    assert len(mailbox.received) == 3


def test_cli_build_with_send_builds_the_edition_and_delivers_it(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox, port = smtp_server("none")
    feeds = Path(__file__).resolve().parent / "data" / "feeds" / "list.toml"
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[digest]
out_dir = "out"
feeds = "{feeds.as_posix()}"

[email]
host = "127.0.0.1"
port = {port}
security = "none"
from = "Lagebild <briefing@example.org>"
to = ["a@example.org"]
""",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["build", "--send", "--config", str(path), "--date", "2026-11-29"]
    )
    assert result.exit_code == 0, result.output
    (received,) = mailbox.received
    message = received.message
    assert message["Subject"] == GERMAN_SUBJECT
    built_text = (tmp_path / "out" / "2026-11-29" / "digest.txt").read_text(encoding="utf-8")
    received_text = message.get_body(("plain",)).get_content()
    assert received_text.splitlines() == built_text.splitlines()
    with Store.open(tmp_path / "state" / "state.sqlite") as store:
        record = store.runs.get(date(2026, 11, 29))
    assert record is not None and (record.status, record.error) == ("done", None)


def test_cli_build_with_send_records_a_failed_run_when_a_recipient_is_refused(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox = Mailbox(refuse={"b@example.org": "550 5.1.1 No such user"})
    _, port = smtp_server("none", mailbox=mailbox)
    path = write_toml(tmp_path, port)
    feeds = Path(__file__).resolve().parent / "data" / "feeds" / "list.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'out_dir = "out"', f'out_dir = "out"\nfeeds = "{feeds.as_posix()}"'
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["build", "--send", "--config", str(path), "--date", "2026-11-29"]
    )
    assert result.exit_code == 1
    with Store.open(tmp_path / "state" / "state.sqlite") as store:
        record = store.runs.get(date(2026, 11, 29))
    assert record is not None and record.status == "failed"
    assert "1 von 3 Empfängern nicht erreicht" in (record.error or "")


# --- A sent edition never changes: build --send, refused, new article, build --send again ---------


def news_feed(path: Path, titles: list[str]) -> None:
    """A local feed of full-text items (no page to fetch) published an hour ago, one per title."""
    published = email.utils.format_datetime(datetime.now(UTC) - timedelta(hours=1))
    body = " ".join(
        "Die Bundeswehr verlegt weitere Soldaten an die Ostflanke der Nato nach Litauen."
        for _ in range(15)
    )
    items = "".join(
        f"<item><title>{title}</title><link>https://zeitung.example/{n}</link>"
        f"<pubDate>{published}</pubDate><description>{title}. {body}</description></item>"
        for n, title in enumerate(titles)
    )
    path.write_text(
        f'<rss version="2.0"><channel><title>Zeitung</title>{items}</channel></rss>', "utf-8"
    )


def frozen_setup(tmp_path: Path, port: int) -> tuple[Path, Path]:
    feed = tmp_path / "zeitung.xml"
    news_feed(feed, ["Brigade in Litauen"])
    (tmp_path / "feeds.toml").write_text(
        f'[[feeds]]\nname = "Zeitung"\nurl = "{feed.as_posix()}"\n', encoding="utf-8"
    )
    path = tmp_path / "digest.toml"
    path.write_text(
        f"""
[digest]
out_dir = "out"
feeds = "feeds.toml"

[email]
host = "127.0.0.1"
port = {port}
security = "none"
from = "Lagebild <briefing@example.org>"
to = ["a@example.org", "b@example.org"]
retries = 0
""",
        encoding="utf-8",
    )
    return path, feed


def html_part(received: Received) -> str:
    return received.message.get_body(("html",)).get_content()


def test_a_retried_build_send_gives_the_refused_recipient_the_very_edition_of_the_first(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox = Mailbox(refuse={"b@example.org": "550 5.2.2 Postfach voll"})
    _, port = smtp_server("none", mailbox=mailbox)
    config, feed = frozen_setup(tmp_path, port)
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    first = CliRunner().invoke(main, ["build", "--send", "--config", str(config)])
    assert first.exit_code == 1 and "1 von 2 Empfängern nicht erreicht" in first.output
    edition = tmp_path / "out" / today.isoformat()
    sent_html = (edition / "digest.html").read_bytes()

    news_feed(feed, ["Brigade in Litauen", "Neue Meldung nach dem Versand"])
    mailbox.refuse.clear()  # the full mailbox has room again
    second = CliRunner().invoke(main, ["build", "--send", "--config", str(config)])
    assert second.exit_code == 0, second.output
    assert "bereits versandt und bleibt unverändert" in second.output

    (to_a,), (to_b,) = mailbox.to("a@example.org"), mailbox.to("b@example.org")
    assert html_part(to_a) == html_part(to_b)
    assert to_a.message["Subject"] == to_b.message["Subject"]
    assert (edition / "digest.html").read_bytes() == sent_html
    assert "Neue Meldung" not in (edition / "digest.json").read_text("utf-8")
    # A third run (the scheduler's retry, cron) sends nothing and changes nothing.
    third = CliRunner().invoke(main, ["build", "--send", "--config", str(config)])
    assert third.exit_code == 0 and len(mailbox.received) == 2
    assert (edition / "digest.html").read_bytes() == sent_html
    # The later article waits for the next edition.
    tomorrow = (today + timedelta(days=1)).isoformat()
    nxt = CliRunner().invoke(main, ["build", "--config", str(config), "--date", tomorrow])
    assert nxt.exit_code == 0, nxt.output
    assert "Neue Meldung" in (tmp_path / "out" / tomorrow / "digest.json").read_text("utf-8")


def test_force_on_a_sent_edition_refuses_unless_told_to_make_a_new_edition(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox, port = smtp_server("none")
    config, feed = frozen_setup(tmp_path, port)
    assert CliRunner().invoke(main, ["build", "--send", "--config", str(config)]).exit_code == 0
    news_feed(feed, ["Brigade in Litauen", "Neue Meldung nach dem Versand"])
    refused = CliRunner().invoke(main, ["build", "--force", "--config", str(config)])
    assert refused.exit_code == 1
    assert "stays as sent" in refused.output and "--force --new-edition" in refused.output
    alone = CliRunner().invoke(main, ["build", "--new-edition", "--config", str(config)])
    assert alone.exit_code == 2  # a usage error: it needs --force
    renewed = CliRunner().invoke(
        main, ["build", "--force", "--new-edition", "--send", "--config", str(config)]
    )
    assert renewed.exit_code == 0, renewed.output
    first_a, second_a = mailbox.to("a@example.org")
    assert "Neue Meldung" in html_part(second_a) and "Neue Meldung" not in html_part(first_a)
    assert first_a.message["Message-ID"] != second_a.message["Message-ID"]
    assert len(mailbox.to("b@example.org")) == 2


def test_no_file_under_out_names_a_recipient_after_build_send(
    tmp_path: Path, smtp_server: Callable[..., tuple[Mailbox, int]]
) -> None:
    mailbox, port = smtp_server("none")
    config, _ = frozen_setup(tmp_path, port)
    result = CliRunner().invoke(main, ["build", "--send", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert len(mailbox.received) == 2
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert any(p.name == "digest.eml" for p in files)
    for path in files:
        content = path.read_bytes().lower()
        assert b"a@example.org" not in content and b"b@example.org" not in content, path
    assert (tmp_path / "state" / "state.sqlite").is_file()
