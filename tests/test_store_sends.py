"""The send ledger: attempts are counted, a recipient a server accepted is never sent the
edition again nor marked failed afterwards, and the ledger of a date is its current revision's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from digest.store import Store

T0 = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
DAY = date(2024, 6, 3)


def test_attempts_are_counted_until_a_server_accepts(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        sends = store.sends
        sends.attempt(DAY, 1, "a@e.de", T0)
        assert sends.by_recipient(DAY) == {"a@e.de": ("pending", 1, None)}
        sends.failed(DAY, 1, ["a@e.de"], T0, "421 später")
        sends.attempt(DAY, 1, "a@e.de", T0 + timedelta(seconds=5))
        sends.accepted(DAY, 1, "a@e.de", T0 + timedelta(seconds=6), "<m@e.de>")
        assert sends.by_recipient(DAY) == {"a@e.de": ("sent", 2, None)}
        (message_id,) = store.db.execute("SELECT message_id FROM sends").fetchone()
        assert message_id == "<m@e.de>"


def test_only_recipients_no_server_accepted_are_unsent_in_the_order_given(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        sends = store.sends
        sends.accepted(DAY, 1, "b@e.de", T0, "<b>")
        sends.attempt(DAY, 1, "c@e.de", T0)  # pending: the server may or may not have it
        sends.failed(DAY, 1, ["d@e.de"], T0, "550")
        recipients = ["d@e.de", "c@e.de", "b@e.de", "a@e.de"]
        assert sends.unsent(DAY, recipients, 1) == ["d@e.de", "c@e.de", "a@e.de"]
        assert sends.unsent(DAY + timedelta(days=1), recipients, 1) == recipients


def test_a_recipient_served_is_never_marked_failed_afterwards(tmp_path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        sends = store.sends
        sends.accepted(DAY, 1, "a@e.de", T0, "<a>")
        sends.failed(DAY, 1, ["a@e.de", "b@e.de", "c@e.de"], T0, "connection refused")
        assert sends.by_recipient(DAY) == {
            "a@e.de": ("sent", 0, None),
            "b@e.de": ("failed", 0, "connection refused"),
            "c@e.de": ("failed", 0, "connection refused"),
        }
        assert sends.served_count(DAY) == 1
