"""The pytest plugin as a user meets it: test files run by pytester, with the plugin loaded by its entry point."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "test_stiply_client.py"

# What every generated test file starts with: a client helper that talks to the mock like a user's code.
HEADER = textwrap.dedent(
    """
    import pytest
    import requests

    PDF = b"%PDF-1.4\\n%%EOF\\n"


    def post(mock, path, auth=None, **kwargs):
        auth = mock.credentials["basicAuth"] if auth is None else auth
        return requests.post(mock.base_url + path, auth=auth, timeout=10, **kwargs)


    def create(mock, **kwargs):
        answer = post(mock, "/sign_requests", files={"file": ("c.pdf", PDF, "application/pdf")}, data={"term": "2w"})
        assert answer.status_code == 200, answer.text
        return answer.json()["data"]["sign_request"]["key"]
    """
)

# Modules that only a fixture (or the contract checks) may bring in, never the plugin's import.
HEAVY = ("schemathesis", "hypothesis", "jsonschema", "werkzeug", "responses", "yaml", "requests", "lxml", "waitress")


def make_test_file(pytester: pytest.Pytester, body: str, name: str = "test_user") -> Path:
    return pytester.makepyfile(**{name: HEADER + textwrap.dedent(body)})


def clean_env() -> dict[str, str]:
    """The environment minus anything that would change which plugins pytest loads."""
    drop = {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "PYTHONPATH"}
    return {k: v for k, v in os.environ.items() if k not in drop}


# -- (a) the documented example ------------------------------------------------------------------


def test_the_example_passes_as_a_user_runs_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_stiply_client=EXAMPLE.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\naddopts = --strict-markers\nfilterwarnings = error\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


# -- (b) a client that breaks the contract fails at teardown --------------------------------------


def test_a_request_that_breaks_the_spec_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        def test_bad_email(stiply_mock):
            key = create(stiply_mock)
            answer = post(stiply_mock, f"/sign_requests/{key}/signers",
                          json={"signer_email": "not-an-email", "signer_signature_fields": []})
            assert answer.status_code == 400  # the test body passes; the teardown must not


        def test_no_credentials(stiply_mock):
            assert requests.post(stiply_mock.base_url + "/actions/ping", json={"ping_value": "x"}).status_code == 401


        def test_undocumented_path(stiply_mock):
            assert post(stiply_mock, "/sign_requests/abc/actions/sign").status_code == 404
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_bad_email*",
            "*ContractViolated: the client sent 1 request(s) that break the stiply contract:",
            # operation, rule, what was wrong, where the docs say so, where in the spec, what was received
            "*- "
            + glob.escape("[stiply] createSigner: request schema — body['signer_email']: 'not-an-email' is not a")
            + "*; documented in Stiply API v1 > Create signer"
            " (spec: /components/schemas/CreateSignerRequest/properties/signer_email/format);"
            " received POST /v1/sign_requests/*/signers body=*not-an-email*",
            "*mark the test with @pytest.mark.esign_allow_violations if that is what it tests*",
            "*ERROR at teardown of test_no_credentials*",
            "*- "
            + glob.escape("[stiply] ping: credentials — no 'Authorization: Basic …' header;")
            + " documented in security scheme*",
            "*ERROR at teardown of test_undocumented_path*",
            "*- " + glob.escape("[stiply] (no documented operation): documented operation — ") + "*",
        ]
    )


def test_two_providers_fixtures_in_one_test_both_answer_and_other_hosts_can_be_stubbed(
    pytester: pytest.Pytester,
) -> None:
    """Each fixture started its own `responses` mock, and the one started last hid the others."""
    make_test_file(
        pytester,
        """
        def test_an_app_that_talks_to_two_providers(stiply_mock, okdokument_mock, esign_responses):
            esign_responses.add("GET", "https://crm.example.com/health", json={"up": True})
            assert post(stiply_mock, "/actions/ping", json={"ping_value": "x"}).status_code == 200
            key = {"x-api-key": okdokument_mock.credentials["apiKey"]}
            created = requests.post(okdokument_mock.base_url + "/JSON/signatureRequest", json={}, headers=key)
            assert created.status_code == 200, created.text
            assert requests.get("https://crm.example.com/health").json() == {"up": True}
            assert len(stiply_mock.journal) == 1 and len(okdokument_mock.journal) == 1
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_reset_does_not_hide_the_violations_before_it(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        def test_reset_after_a_mistake(stiply_mock):
            assert post(stiply_mock, "/sign_requests/abc/actions/sign").status_code == 404
            stiply_mock.reset()
            assert stiply_mock.violations == []  # the journal is cleared; the test still fails at teardown
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ContractViolated: the client sent 1 request(s) that break the stiply contract:"])


def test_a_failing_test_that_also_broke_the_spec_reports_both(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        def test_it(stiply_mock):
            post(stiply_mock, "/actions/ping", json={})
            assert False, "the test's own failure"
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_it*", "*ping: request schema — body: 'ping_value' is a required*"]
    )
    result.stdout.fnmatch_lines(["*FAILURES*", "*the test's own failure*"])


# -- (c) the opt-out marker -----------------------------------------------------------------------


def test_allow_violations_marker_opts_out(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        @pytest.mark.esign_allow_violations
        def test_on_the_function(stiply_mock):
            assert post(stiply_mock, "/actions/ping", json={}).status_code == 400
            assert [v.rule for v in stiply_mock.violations] == ["request schema"]


        @pytest.mark.esign_allow_violations
        class TestOnTheClass:
            def test_it(self, stiply_mock):
                assert post(stiply_mock, "/actions/ping", json={}).status_code == 400
        """,
    )
    make_test_file(
        pytester,
        """
        pytestmark = pytest.mark.esign_allow_violations


        def test_on_the_module(stiply_mock):
            assert post(stiply_mock, "/actions/ping", json={}).status_code == 400
        """,
        name="test_module_mark",
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3)


# -- (d) refusals the docs foresee are not violations ---------------------------------------------


def test_an_unmet_precondition_alone_does_not_fail_the_test(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        def test_send_without_signers(stiply_mock):
            key = create(stiply_mock)
            answer = post(stiply_mock, f"/sign_requests/{key}/actions/send")
            assert answer.status_code == 403
            assert answer.headers["X-Esign-Contracts-Rule"] == "has_signer_with_signature_field"
            assert [e.outcome for e in stiply_mock.journal] == ["ok", "refused"]
            assert stiply_mock.violations == []


        def test_unknown_sign_request(stiply_mock):
            assert post(stiply_mock, "/sign_requests/unknown/actions/send").status_code == 404


        def test_wrong_password(stiply_mock):
            # Sending credentials that are not accepted is a refusal (401), not a malformed request.
            answer = post(stiply_mock, "/actions/ping", auth=("stiply-user", "wrong"), json={"ping_value": "x"})
            assert answer.status_code == 401
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


# -- (e) options marker ---------------------------------------------------------------------------


def test_seed_makes_keys_reproducible(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        import json
        import pathlib


        def record(name, key):
            path = pathlib.Path("keys.json")
            keys = json.loads(path.read_text()) if path.exists() else {}
            keys.setdefault(name, []).append(key)
            path.write_text(json.dumps(keys))


        @pytest.mark.esign_mock(seed=1)
        def test_first(stiply_mock):
            record("seed1", create(stiply_mock))


        @pytest.mark.esign_mock(seed=1)
        def test_second(stiply_mock):
            record("seed1", create(stiply_mock))


        @pytest.mark.esign_mock(seed=2)
        def test_other_seed(stiply_mock):
            record("seed2", create(stiply_mock))


        def test_unseeded(stiply_mock):
            record("none", create(stiply_mock))
        """,
    )
    for _ in range(2):  # two sessions: the same seed gives the same keys across runs too
        pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)
    keys = json.loads((pytester.path / "keys.json").read_text())
    assert len(set(keys["seed1"])) == 1 and len(keys["seed1"]) == 4
    assert len(set(keys["seed2"])) == 1 and keys["seed2"][0] != keys["seed1"][0]
    assert len(set(keys["none"])) == 2
    assert all(len(k) == 50 for k in keys["seed1"] + keys["none"])


def test_credentials_change_what_the_mock_accepts(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        @pytest.mark.esign_mock(credentials={"basicAuth": ("alice", "s3cret")})
        def test_custom(stiply_mock):
            assert stiply_mock.credentials["basicAuth"] == ("alice", "s3cret")
            ping = {"ping_value": "pong"}
            assert post(stiply_mock, "/actions/ping", auth=("alice", "s3cret"), json=ping).status_code == 200
            default = ("stiply-user", "stiply-password")
            assert post(stiply_mock, "/actions/ping", auth=default, json=ping).status_code == 401


        def test_default(stiply_mock):
            assert stiply_mock.credentials["basicAuth"] == ("stiply-user", "stiply-password")
            assert post(stiply_mock, "/actions/ping", json={"ping_value": "pong"}).status_code == 200
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_unknown_mock_options_are_refused(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        @pytest.mark.esign_mock(seeds=1)
        def test_typo(stiply_mock):
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*seeds*"])


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ('credentials={"basicAuth": "alice:s3cret"}', "basicAuth must be a tuple (USER, PASSWORD)"),
        ('credentials={"basicauth": ("alice", "s3cret")}', "the stiply contract has no credential scheme 'basicauth'"),
        ('credentials={"basicAuth": ("alice", "")}', "basicAuth: each value must be a non-empty string"),
        ('seed="abc"', "(seed=...) takes a whole number, got 'abc'"),
    ],
)
def test_mock_options_of_the_wrong_form_are_refused_naming_what_is_wrong(
    pytester: pytest.Pytester, options: str, words: str
) -> None:
    make_test_file(
        pytester,
        f"""
        @pytest.mark.esign_mock({options})
        def test_options(stiply_mock):
            pass
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*UsageError: @pytest.mark.esign_mock*" + glob.escape(words) + "*"])


# -- (f) every test gets a fresh mock -------------------------------------------------------------


def test_state_does_not_leak_between_tests(pytester: pytest.Pytester) -> None:
    make_test_file(
        pytester,
        """
        import requests.adapters

        ORIGINAL_SEND = requests.adapters.HTTPAdapter.send
        CREATED = []


        @pytest.mark.esign_allow_violations
        def test_leaves_state_behind(stiply_mock):
            CREATED.append(create(stiply_mock))
            post(stiply_mock, "/actions/ping", json={})  # a violation, allowed here
            assert requests.adapters.HTTPAdapter.send is not ORIGINAL_SEND  # requests are intercepted


        def test_starts_fresh(stiply_mock):
            assert stiply_mock.model.requests == {}
            assert len(stiply_mock.journal) == 0 and stiply_mock.violations == []
            assert requests.get(f"{stiply_mock.base_url}/sign_requests/{CREATED[0]}",
                                auth=stiply_mock.credentials["basicAuth"]).status_code == 404


        def test_interception_ends_with_the_fixture():
            assert requests.adapters.HTTPAdapter.send is ORIGINAL_SEND
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


# -- (g) importing the plugin is cheap ------------------------------------------------------------


def test_importing_the_plugin_imports_nothing_heavy(tmp_path: Path) -> None:
    code = f"import esign_contracts.contracts.plugin, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_fixture_needs_neither_schemathesis_nor_hypothesis(pytester: pytest.Pytester) -> None:
    # Their own pytest plugins would import them; with those off, the fixture must work without them.
    make_test_file(
        pytester,
        """
        import sys


        def test_no_heavy_import_at_collection():
            assert "jsonschema" not in sys.modules and "werkzeug" not in sys.modules


        def test_fixture(stiply_mock):
            create(stiply_mock)
            assert "schemathesis" not in sys.modules and "hypothesis" not in sys.modules
        """,
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:schemathesis", "-p", "no:hypothesispytest", "-p", "no:anyio"
    )
    result.assert_outcomes(passed=2)


# -- (h, i) what pytest tells a user about the plugin ---------------------------------------------


def test_markers_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.esign_allow_violations: do not fail the test when the client sent requests that break*",
            "@pytest.mark.esign_mock(credentials=None, seed=None): options for the <provider>_mock fixtures",
        ],
        consecutive=False,
    )


def test_fixture_is_listed_with_its_docstring(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "stiply_mock -- *plugin.py:*",
            "*The in-process stiply mock: requests-based calls to its host are answered by the model.*",
        ]
    )
