"""Specification of configuration loading: defaults, relative paths, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import DEFAULT_CONFIG, SECTIONS, Config, load_config, load_feed_list
from digest.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_and_names_the_sample_feeds() -> None:
    config = load_config(DEFAULT_CONFIG)
    assert config.feeds == DEFAULT_CONFIG.parent / "feeds" / "samples.toml"
    assert config.out_dir == DEFAULT_CONFIG.parent / "out"
    assert config.state_path == DEFAULT_CONFIG.parent / "state" / "state.sqlite"
    assert config.languages == ("de",)


def test_shipped_config_documents_every_setting_with_its_default() -> None:
    """Every key in digest.toml carries the dataclass default, so the file documents the code."""
    import tomllib

    data = tomllib.loads(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    defaults = Config()
    for key, value in data["digest"].items():
        if key in ("feeds", "out_dir", "state_dir"):
            continue
        expected = getattr(defaults, key)
        assert value == (
            ""
            if expected is None
            else (list(expected) if isinstance(expected, tuple) else expected)
        ), key
    assert set(data) == {"digest", *SECTIONS}
    for section in SECTIONS:
        section_defaults = getattr(defaults, section)
        fields = set(section_defaults.__dataclass_fields__)
        documented = {("sender" if k == "from" else k) for k in data[section]}
        assert documented == fields, section
        for key, value in data[section].items():
            expected = getattr(section_defaults, "sender" if key == "from" else key)
            if isinstance(expected, tuple):
                expected = list(expected)
            assert value == ("" if expected is None else expected), f"{section}.{key}"


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    config = load_config(
        write(folder / "d.toml", '[digest]\nfeeds = "lists/x.toml"\nout_dir = "../o"\n')
    )
    assert config.feeds == folder / "lists" / "x.toml"
    assert config.out_dir == (tmp_path / "o").resolve()


def test_defaults_fill_in_what_the_file_leaves_out(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "d.toml", "[fetch]\nconcurrency = 3\n"))
    assert config.fetch.concurrency == 3
    assert config.fetch.per_host == 2
    assert config.out_dir == tmp_path / "out"


def test_malformed_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", '[digest]\ntitle = "ok"\nfeeds = = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert "line 3" in str(caught.value)


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="concurency"):
        load_config(write(tmp_path / "d.toml", "[fetch]\nconcurency = 3\n"))


def test_wrong_type_is_an_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"fetch\.retries must be int"):
        load_config(write(tmp_path / "d.toml", '[fetch]\nretries = "zwei"\n'))


def test_email_from_key_maps_to_sender(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "d.toml", '[email]\nfrom = "Lagebild <a@b.example>"\n'))
    assert config.email.sender == "Lagebild <a@b.example>"


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.toml")


def test_feed_list_resolves_local_paths_and_keeps_web_urls(tmp_path: Path) -> None:
    path = write(
        tmp_path / "list.toml",
        '[[feeds]]\nname = "A"\nurl = "a.xml"\nlanguage = "de"\nsection = "NATO & Europa"\n'
        '[[feeds]]\nname = "B"\nurl = "https://b.example/feed"\nlanguage = "en"\nweight = 2\n',
    )
    local, web = load_feed_list(path)
    assert local.url == str(tmp_path / "a.xml") and local.is_local
    assert local.section == "NATO & Europa"
    assert web.url == "https://b.example/feed" and not web.is_local
    assert (web.language, web.weight) == ("en", 2.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[feeds]]\nurl = "a.xml"\n', "'name' is required"),
        ('[[feeds]]\nname = "A"\nurl = "ftp://x.example/f"\n', "http(s) or a file path"),
        ('[[feeds]]\nname = "A"\nurl = "a.xml"\nweight = 0\n', "weight must be a positive"),
        (
            '[[feeds]]\nname = "A"\nurl = "a.xml"\n[[feeds]]\nname = "A"\nurl = "b.xml"\n',
            "used twice",
        ),
        ('[[feeds]]\nname = "A"\nurl = "a.xml"\ncolour = "red"\n', "unknown key 'colour'"),
    ],
)
def test_feed_list_errors_are_clear(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_feed_list(write(tmp_path / "list.toml", body))


def test_the_state_lives_beside_the_config_never_in_the_published_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "d.toml", '[digest]\nout_dir = "www"\n'))
    assert config.state_path == tmp_path / "state" / "state.sqlite"
    assert not config.state_path.is_relative_to(config.out_dir)


def test_an_out_run_keeps_a_state_of_its_own_outside_its_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "d.toml", "[digest]\n"))
    first = config.with_out_dir(tmp_path / "eins")
    second = config.with_out_dir(tmp_path / "zwei")
    assert first.out_dir == (tmp_path / "eins").resolve()
    assert not first.state_path.is_relative_to(first.out_dir)
    assert first.state_dir != second.state_dir != config.state_dir
    assert first.state_dir == config.with_out_dir(tmp_path / "eins").state_dir  # stable


def test_the_independent_state_folder_follows_xdg_state_home(tmp_path: Path) -> None:
    from digest.config import independent_state_dir

    folder = independent_state_dir(tmp_path / "out", {"XDG_STATE_HOME": str(tmp_path / "x")})
    assert folder.parent == tmp_path / "x" / "sipo-digest"
    home = independent_state_dir(tmp_path / "out", {"HOME": str(tmp_path / "h")})
    assert home.parent == tmp_path / "h" / ".local" / "state" / "sipo-digest"


def test_the_old_state_key_names_its_replacement(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="state_dir"):
        load_config(write(tmp_path / "d.toml", '[digest]\nstate = "out/state.sqlite"\n'))


@pytest.mark.parametrize(
    "text",
    [
        "[digest]\nwindow_hours = 0\n",
        "[fetch]\npages_deadline = 0\n",
        "[fetch]\nfeeds_deadline = -5\n",
    ],
)
def test_windows_and_deadlines_must_be_positive(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="positive"):
        load_config(write(tmp_path / "d.toml", text))
