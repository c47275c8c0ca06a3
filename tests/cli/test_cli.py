"""The ``reqbed`` command, run as a real console script in a subprocess against the emulator."""

from __future__ import annotations

import json
import subprocess
import sys

import reqbed
from reqbed.testing import EXAMPLE_SECRET_ACCESS_KEY, Emulator
from tests.cli.support import ROOT, cli_env, run, script

# -- models ------------------------------------------------------------------------------------------


def test_models_list_table_and_filters() -> None:
    p = run("models", "list", "--provider", "amazon", env=cli_env())
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["ID", "NAME"]
    ids = [line.split()[0] for line in lines[1:]]
    assert "amazon.nova-pro-v1:0" in ids
    assert all(i.startswith("amazon.") for i in ids)
    assert "\x1b[" not in p.stdout  # not a terminal: no colour


def test_models_list_json_matches_the_library() -> None:
    p = run("models", "list", "--capability", "embeddings", "--region", "eu-west-1", "--json", env=cli_env())
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout)
    want = reqbed.models.list(capability="embeddings", region="eu-west-1")
    assert [m["id"] for m in got] == [m.id for m in want]
    assert got
    assert all(m["capabilities"]["embedding_dimensions"] for m in got)


def test_models_find_and_show() -> None:
    p = run("models", "find", "sonnet", "--json", env=cli_env())
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in [m["id"] for m in json.loads(p.stdout)]
    p = run("models", "show", "claude-sonnet-4-5", env=cli_env())
    assert p.returncode == 0, p.stderr
    assert "anthropic.claude-sonnet-4-5-20250929-v1:0" in p.stdout
    assert "cache write 1h $6" in p.stdout  # the global price entry
    shown = json.loads(run("models", "show", "nova-pro", "--json", env=cli_env()).stdout)
    assert shown["id"] == "amazon.nova-pro-v1:0"
    assert shown["family"] == "amazon"


def test_unknown_model_is_one_line_with_the_fix() -> None:
    p = run("models", "show", "no-such-model-xyz", env=cli_env())
    assert p.returncode == 1
    assert p.stdout == ""
    [line] = p.stderr.splitlines()
    assert line.startswith("reqbed: error: model:")
    assert "reqbed models find" in line


def test_bad_usage_exits_2() -> None:
    p = run("models", "list", "--no-such-flag", env=cli_env())
    assert p.returncode == 2
    assert "usage:" in p.stderr


def test_python_dash_m_reqbed() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "reqbed", "models", "find", "nova-micro", "--json"],
        env=cli_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert [m["id"] for m in json.loads(p.stdout)] == ["amazon.nova-micro-v1:0"]


# -- chat ------------------------------------------------------------------------------------------------


def test_chat_streams_then_prints_usage_and_cost(emulator: Emulator) -> None:
    p = run("chat", "nova-pro", "Hello there", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    assert p.stdout == "You said: Hello there\n"
    [note] = p.stderr.splitlines()
    assert note.startswith("amazon.nova-pro-v1:0 · ")
    assert " in · " in note
    assert " out · $0.0000" in note
    [req] = [r for r in emulator.requests if r["path"].endswith("/converse-stream")]
    assert "/model/amazon.nova-pro-v1%3A0/" in req["path"]  # the alias resolved for us-east-1


def test_chat_json(emulator: Emulator) -> None:
    p = run("chat", "bedrock:sonnet", "Hi", "--json", "--max-tokens", "50", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["text"] == "You said: Hi"
    assert out["model"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert out["cost"]["total"] is not None
    assert out["usage"]["output_tokens"] > 0
    [req] = [r for r in emulator.requests if "/model/us.anthropic.claude-sonnet-4-5" in r["path"]]
    assert json.loads(req["body"])["max_tokens"] == 50  # Claude's native /invoke body


def test_endpoint_and_region_flags_override_the_environment(emulator: Emulator) -> None:
    env = cli_env(emulator, AWS_ENDPOINT_URL_BEDROCK_RUNTIME="http://127.0.0.1:9", AWS_REGION="eu-west-1")
    p = run("chat", "nova-pro", "Hi", "--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "You said: Hi\n"


def test_refused_credentials_one_line_no_secret(emulator: Emulator) -> None:
    env = cli_env(emulator, AWS_SECRET_ACCESS_KEY="not-the-secret-" + "x" * 20)
    p = run("chat", "nova-pro", "Hi", env=env)
    assert p.returncode == 1
    [line] = p.stderr.splitlines()
    assert line.startswith("reqbed: error: ")
    assert "credentials were refused" in line
    assert "not-the-secret" not in p.stderr + p.stdout
    assert EXAMPLE_SECRET_ACCESS_KEY not in p.stderr + p.stdout


def test_missing_credentials_say_how_to_fix(emulator: Emulator, tmp_path: object) -> None:
    env = cli_env(emulator)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    p = run("chat", "nova-pro", "Hi", "--profile", "no-such-profile", env=env)
    assert p.returncode == 1
    [line] = p.stderr.splitlines()
    assert "no AWS credentials found" in line
    assert "--profile" in line


# -- key, emulator --------------------------------------------------------------------------------------------


def test_key_mints_a_short_term_key(emulator: Emulator) -> None:
    p = run("key", "--region", "us-east-1", "--expires-in", "600", "--json", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["api_key"].startswith("bedrock-api-key-")
    assert out["expires_in"] == 600
    # the key works against the emulator
    opts = {"api_key": out["api_key"], "endpoint_url": emulator.endpoint_url, "region": "us-east-1"}
    assert reqbed.generate_text("bedrock:nova-pro", "keyed", provider_options=opts).text == "You said: keyed"


def test_emulator_subcommand_serves_until_stopped() -> None:
    with subprocess.Popen(
        [script(), "emulator", "--port", "0"], env=cli_env(), stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as proc:
        _check_served(proc)


def _check_served(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("reqbed Bedrock emulator on http://127.0.0.1:")
        url = first.split(" on ", 1)[1].strip()
        exports = proc.stdout.readline() + proc.stdout.readline()
        assert f"AWS_ENDPOINT_URL_BEDROCK_RUNTIME={url}" in exports
        fake = Emulator()  # only for its example credentials
        opts = {**fake.provider_options(), "endpoint_url": url}
        assert reqbed.generate_text("bedrock:nova-lite", "ping", provider_options=opts).text == "You said: ping"
    finally:
        proc.terminate()
        proc.wait(30)


# -- the verbs other branches wire ---------------------------------------------------------------------------


def test_object(emulator: Emulator, tmp_path: object) -> None:
    from pathlib import Path

    schema = Path(str(tmp_path)) / "person.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}))
    p = run("object", "sonnet", "Invent a person", "--schema", str(schema), "--json", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    assert isinstance(json.loads(p.stdout)["object"]["name"], str)


def test_object_schema_file_missing(emulator: Emulator) -> None:
    p = run("object", "sonnet", "x", "--schema", "/no/such/schema.json", env=cli_env(emulator))
    assert p.returncode == 1
    [line] = p.stderr.splitlines()
    assert line.startswith("reqbed: error: --schema: cannot read")


def test_embed(emulator: Emulator) -> None:
    p = run("embed", "titan-embed-text-v2", "one", "two", "--json", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert len(out["vectors"]) == 2
    assert out["dimensions"] == len(out["vectors"][0]) > 0


def test_count_tokens(emulator: Emulator) -> None:
    p = run("count-tokens", "sonnet", "How long is this prompt?", "--json", env=cli_env(emulator))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["input_tokens"] > 0
