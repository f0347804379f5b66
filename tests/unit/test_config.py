"""Config: layered defaults < alcor.toml < env < overrides, strict keys, all problems at once."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alcor.cli import main
from alcor.config import Config, ConfigError, config_as_dict, load_config

SHIPPED = Path(__file__).resolve().parents[2] / "alcor.toml"


def _leaves(value, prefix=""):
    """Yield (dotted path, value) for every leaf of a dataclass tree."""
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _leaves(getattr(value, f.name), f"{prefix}{f.name}.")
    else:
        yield prefix.rstrip("."), value


def test_defaults_without_file_env_or_overrides(tmp_path, monkeypatch):
    """With nothing given, the config is the code defaults."""
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}) == Config()


def test_shipped_alcor_toml_equals_the_defaults_key_by_key():
    """The documented alcor.toml loads and every key equals its code default."""
    loaded = load_config(SHIPPED, env={})
    defaults = dict(_leaves(Config()))
    for path, value in _leaves(loaded):
        assert value == defaults[path], path
    assert loaded == Config()


def test_shipped_alcor_toml_documents_every_section():
    """Every section of the config appears in the shipped file."""
    text = SHIPPED.read_text()
    for f in dataclasses.fields(Config):
        if f.name != "nodes":
            assert f"[{f.name}]" in text, f.name


def test_layers_apply_in_order(tmp_path):
    """toml overrides defaults, env overrides toml, explicit overrides override env."""
    toml = tmp_path / "alcor.toml"
    toml.write_text(
        '[server]\nport = 9100\nhost = "0.0.0.0"\n[store]\npath = "from-file.db"\n'
        "[api]\nmax_bulk_items = 5\n"
    )
    env = {"ALCOR__SERVER__PORT": "9200", "ALCOR__STORE__PATH": '"from-env.db"', "UNRELATED": "x"}
    config = load_config(toml, env=env, overrides={"server.port": 9300, "log.level": None})
    assert config.server.port == 9300  # override
    assert config.store.path == "from-env.db"  # env
    assert config.server.host == "0.0.0.0"  # file
    assert config.api.max_bulk_items == 5  # file
    assert config.server.shutdown_timeout == 30.0  # default
    assert config.log.level == "INFO"  # None overrides are ignored


def test_env_values_are_toml_scalars_or_plain_strings():
    """Env values parse as TOML (numbers, booleans, arrays); anything else is a string."""
    env = {
        "ALCOR__SERVER__HOST": "10.0.0.1",
        "ALCOR__NETWORK__PORT_SECURITY_ENABLED": "false",
        "ALCOR__NETWORK__TUNNEL_ID_RANGES": "[[100, 200]]",
        "ALCOR__SOUTHBOUND__GRPC_SERVER__ENABLED": "false",
    }
    config = load_config(None, env=env)
    assert config.server.host == "10.0.0.1"
    assert config.network.port_security_enabled is False
    assert config.network.tunnel_id_ranges == ((100, 200),)
    assert config.southbound.grpc_server.enabled is False


def test_config_file_found_through_alcor_config_env(tmp_path):
    """$ALCOR_CONFIG names the file when no path is given."""
    toml = tmp_path / "other.toml"
    toml.write_text("[server]\nport = 9111\n")
    assert load_config(None, env={"ALCOR_CONFIG": str(toml)}).server.port == 9111


def test_local_alcor_toml_is_used_when_present(tmp_path, monkeypatch):
    """./alcor.toml is read when neither a path nor $ALCOR_CONFIG is given."""
    (tmp_path / "alcor.toml").write_text("[server]\nport = 9222\n")
    monkeypatch.chdir(tmp_path)
    assert load_config(None, env={}).server.port == 9222


def test_unknown_keys_are_errors_naming_their_path(tmp_path):
    """An unknown key anywhere (file, env, nested table) is reported with its dotted path."""
    toml = tmp_path / "alcor.toml"
    toml.write_text("[store]\npth = 'x'\n[southbound.retry]\nbase = 1\n[nosuch]\na = 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(toml, env={"ALCOR__SERVER__PROT": "1"})
    assert set(info.value.problems) >= {
        "store.pth: unknown key",
        "southbound.retry.base: unknown key",
        "nosuch: unknown key",
        "server.prot: unknown key",
    }


def test_every_problem_is_reported_together(tmp_path):
    """Type errors, range errors and unknown keys come back in one ConfigError."""
    toml = tmp_path / "alcor.toml"
    toml.write_text(
        '[server]\nport = "ninety"\n[api]\nmax_bulk_items = true\n'
        '[network]\ntunnel_id_ranges = [[0, 5]]\ndefault_network_type = "token-ring"\n'
        '[port]\nmac_prefix = "fb:16"\n[auth]\nstrategy = "token"\ncolour = 1\n'
    )
    with pytest.raises(ConfigError) as info:
        load_config(toml, env={})
    text = "\n".join(info.value.problems)
    for fragment in (
        "server.port: expected int",
        "api.max_bulk_items: expected int",
        "network.default_network_type: must be one of",
        "port.mac_prefix: must be unicast",
        "auth.colour: unknown key",
        "auth.tokens: strategy 'token' needs",
    ):
        assert fragment in text
    assert len(info.value.problems) >= 6


def test_malformed_toml_is_a_config_error(tmp_path):
    """A file that is not TOML is reported as a config problem naming the file."""
    toml = tmp_path / "alcor.toml"
    toml.write_text("[server\nport = 1\n")
    with pytest.raises(ConfigError, match="alcor.toml"):
        load_config(toml, env={})


def test_token_entries_need_exactly_one_secret():
    """auth.tokens entries need token or token_sha256, not both and not neither."""
    tokens = '[{project_id = "p", token = "a", token_sha256 = "b"}, {project_id = "q"}]'
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"ALCOR__AUTH__TOKENS": tokens})
    assert info.value.problems == [
        "auth.tokens[0]: set exactly one of token, token_sha256",
        "auth.tokens[1]: set exactly one of token, token_sha256",
    ]


def test_config_is_frozen():
    """The loaded config cannot be changed."""
    config = load_config(None, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.server.port = 1  # type: ignore[misc]


def test_config_show_masks_secrets(tmp_path):
    """`alcor config show` prints the merged config with secrets masked."""
    toml = tmp_path / "alcor.toml"
    toml.write_text(
        '[auth]\nstrategy = "token"\n[[auth.tokens]]\ntoken = "s3cret"\n'
        'project_id = "p"\n[auth.keystone]\npassword = "pw"\n'
    )
    result = CliRunner().invoke(main, ["config", "show", "--config", str(toml)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["auth"]["tokens"][0]["token"] == "***"
    assert shown["auth"]["keystone"]["password"] == "***"
    assert "s3cret" not in result.output
    assert (
        config_as_dict(load_config(toml, env={}), mask_secrets=False)["auth"]["tokens"][0]["token"]
        == "s3cret"
    )


def test_config_check_exits_non_zero_listing_every_problem(tmp_path):
    """`alcor config check` fails with every problem on stderr, and passes a good file."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\npth = 1\n[server]\nport = 0\n")
    result = CliRunner().invoke(main, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert "store.pth: unknown key" in result.output
    assert "server.port: must be 1-65535" in result.output
    good = CliRunner().invoke(main, ["config", "check", "--config", str(SHIPPED)])
    assert good.exit_code == 0, good.output


def test_env_value_of_a_string_key_is_taken_verbatim():
    """A string key set from the environment keeps its text even when it looks like a number."""
    config = load_config(
        None, env={"ALCOR__AUTH__DEFAULT_PROJECT": "12345", "ALCOR__STORE__PATH": "3"}
    )
    assert config.auth.default_project == "12345"
    assert config.store.path == "3"


def test_embedded_agents_admin_must_be_host_and_port():
    """A malformed admin address is refused at start-up; host:port and an empty value pass."""
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"ALCOR__SOUTHBOUND__EMBEDDED_AGENTS_ADMIN": "localhost"})
    assert info.value.problems == [
        "southbound.embedded_agents_admin: must be host:port, got 'localhost'"
    ]
    ok = load_config(None, env={"ALCOR__SOUTHBOUND__EMBEDDED_AGENTS_ADMIN": "127.0.0.1:9100"})
    assert ok.southbound.embedded_agents_admin == "127.0.0.1:9100"


def test_gc_threshold_must_not_be_negative():
    """0 keeps Python's own threshold; a negative one is refused at start-up."""
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"ALCOR__SERVER__GC_THRESHOLD": "-1"})
    assert info.value.problems == ["server.gc_threshold: must be >= 0 (0 keeps Python's default)"]
    assert load_config(None, env={"ALCOR__SERVER__GC_THRESHOLD": "0"}).server.gc_threshold == 0


def test_zeta_section_is_checked():
    """Enabled without a URL, a bad node MAC, or non-positive sizes are all reported."""
    with pytest.raises(ConfigError) as caught:
        load_config(
            None,
            env={},
            overrides={
                "zeta.enabled": True,
                "zeta.mac_node": "not-a-mac",
                "zeta.port_batch": 0,
                "zeta.retry_cap_s": 0.5,
            },
        )
    problems = "\n".join(caught.value.problems)
    for key in ("zeta.url", "zeta.mac_node", "zeta.port_batch", "zeta.retry_cap_s"):
        assert key in problems, key
    config = load_config(
        None, env={}, overrides={"zeta.enabled": True, "zeta.url": "http://zeta:5000"}
    )
    assert (config.zeta.alarm_after, config.zeta.port_batch) == (10, 4000)


def test_the_port_window_must_not_be_negative():
    """coalesce_port_ms is validated with the other windows; 0 turns it off."""
    with pytest.raises(ConfigError) as info:
        load_config(None, env={"ALCOR__SOUTHBOUND__COALESCE_PORT_MS": "-1"})
    assert info.value.problems == [
        "southbound: coalesce_ms, coalesce_max_ms and coalesce_port_ms must be >= 0, "
        "loop_busy_target in (0, 1]"
    ]
    config = load_config(None, env={"ALCOR__SOUTHBOUND__COALESCE_PORT_MS": "0"})
    assert config.southbound.coalesce_port_ms == 0
