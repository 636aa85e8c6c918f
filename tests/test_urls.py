"""Canonical URLs: one spelling per article, whatever feed or campaign linked it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from digest.urls import canonical_url, is_tracking_parameter


def test_scheme_and_host_lower_cased_default_port_and_fragment_dropped() -> None:
    assert canonical_url("HTTPS://WWW.Example.DE:443/Politik/A.html#ref=rss") == (
        "https://www.example.de/Politik/A.html"
    )


def test_other_ports_are_kept() -> None:
    assert canonical_url("http://example.de:8080/a") == "http://example.de:8080/a"


def test_tracking_parameters_dropped_and_others_sorted() -> None:
    url = "https://e.de/a?utm_source=rss&id=7&at_medium=RSS&wt_mc=rss.x&b=2&fbclid=Z&ref=rss"
    assert canonical_url(url) == "https://e.de/a?b=2&id=7"


def test_ref_that_names_no_feed_channel_is_kept() -> None:
    assert canonical_url("https://e.de/a?ref=12345") == "https://e.de/a?ref=12345"
    assert is_tracking_parameter("ref", "rss") and not is_tracking_parameter("ref", "12345")


def test_non_web_urls_are_unchanged() -> None:
    assert canonical_url("mailto:presse@example.de") == "mailto:presse@example.de"


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)


@given(
    host=_segment,
    path=st.lists(_segment, max_size=3),
    params=st.dictionaries(_segment, _segment, max_size=4),
    tracking=st.dictionaries(
        st.sampled_from(["utm_source", "utm_medium", "wt_zmc", "gclid"]), _segment
    ),
)
def test_canonical_form_is_stable_and_ignores_tracking(host, path, params, tracking) -> None:
    query = "&".join(f"{k}={v}" for k, v in {**params, **tracking}.items())
    url = f"HTTPS://{host.upper()}.de/{'/'.join(path)}?{query}#x"
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert "#" not in canonical and not any(f"{k}=" in canonical for k in tracking)
