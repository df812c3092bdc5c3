"""Who may act as the operator (recsys.dashboard.access): a visitor on this machine,
or one the operator let in with RECSYS_ALLOW_RETRAIN or the operator token; and what a
browser may ask a training for."""

from __future__ import annotations

import pytest

from recsys.config import hybrid_config, recipe_config
from recsys.dashboard import access
from recsys.dashboard.access import (
    BROWSER_EPOCHS,
    browser_training_problem,
    host_name,
    local_visitor,
    operator_access,
)

LOOPBACK = "127.0.0.1"
TOKEN = "correct-horse-battery-staple"
PROXIED = [("Host", "proxy.example"), ("X-Forwarded-For", "203.0.113.7")]


def decide(headers, server=LOOPBACK, ip=None, *, everyone=False, token="", typed=None):
    return operator_access(
        headers, server, ip, allow_everyone=everyone, token=token, typed_token=typed
    )


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("localhost:8501", "localhost"),
        ("LocalHost", "localhost"),
        ("127.0.0.1:8501", "127.0.0.1"),
        ("[::1]:8501", "::1"),
        ("::1", "::1"),
        ("proxy.example:443", "proxy.example"),
    ],
)
def test_the_host_header_names_a_host_with_or_without_a_port(host, name):
    assert host_name(host) == name


@pytest.mark.parametrize("host", ["localhost:8501", "127.0.0.1:8501", "[::1]:8501", "localhost"])
def test_a_browser_on_this_machine_is_the_operator(host):
    decision = decide([("Host", host), ("User-Agent", "Mozilla/5.0")])
    assert decision.allowed and decision.reason == "you are on the server's machine"


def test_a_visitor_through_a_proxy_is_refused_and_told_how_to_enable_it():
    decision = decide(PROXIED)
    assert not decision.allowed
    assert decision.reason == "the request came through a proxy (x-forwarded-for header)"
    assert (
        "RECSYS_OPERATOR_TOKEN" in decision.enable and "RECSYS_ALLOW_RETRAIN=1" in decision.enable
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        # A proxy on this machine that keeps the Host it was given still adds its header.
        ([("Host", "localhost:8501"), ("X-Forwarded-Host", "app.example")], "proxy"),
        ([("Host", "localhost:8501"), ("Forwarded", "for=203.0.113.7")], "proxy"),
        ([("Host", "localhost:8501"), ("X-Real-IP", "203.0.113.7")], "proxy"),
        ([("host", "localhost:8501"), ("x-forwarded-proto", "https")], "proxy"),
        # DNS rebinding, or a proxy passing its own name: another name than localhost.
        ([("Host", "evil.example")], "a name other than localhost"),
        ([("Host", "localhost.evil.example:8501")], "a name other than localhost"),
        ([], "exactly one host"),
        ([("Host", "localhost"), ("Host", "evil.example")], "exactly one host"),
    ],
)
def test_proxies_other_names_and_odd_requests_are_not_local(headers, reason):
    local, why = local_visitor(headers, LOOPBACK, None)
    assert not local and reason in why


@pytest.mark.parametrize("server", ["0.0.0.0", "", None, "192.168.1.5", "::"])
def test_a_server_listening_beyond_this_machine_trusts_no_host_header(server):
    decision = decide([("Host", "localhost:8501")], server=server)
    assert not decision.allowed and "listens beyond this machine" in decision.reason


def test_a_peer_on_another_machine_is_refused_whatever_it_says():
    decision = decide([("Host", "localhost")], ip="192.0.2.1")
    assert not decision.allowed and "another machine" in decision.reason


def test_the_operator_may_let_everyone_in():
    decision = decide(PROXIED, everyone=True)
    assert decision.allowed and "RECSYS_ALLOW_RETRAIN" in decision.reason


def test_the_operator_token_lets_its_holder_in_and_no_one_else():
    assert decide(PROXIED, token=TOKEN, typed=TOKEN).allowed
    wrong = decide(PROXIED, token=TOKEN, typed=TOKEN[:-1] + "X")
    assert not wrong.allowed and "not the operator's" in wrong.reason
    assert wrong.token_accepted  # the page offers the box to type it again
    nothing = decide(PROXIED, token=TOKEN, typed=None)
    assert not nothing.allowed and nothing.token_accepted
    unset = decide(PROXIED, token="", typed=TOKEN)
    assert not unset.allowed and not unset.token_accepted


def test_a_short_token_is_ignored_and_the_reason_says_so():
    short = "letmein"
    decision = decide(PROXIED, token=short, typed=short)
    assert not decision.allowed and not decision.token_accepted
    assert "shorter than 16 characters" in decision.reason


def test_the_token_is_compared_in_constant_time(monkeypatch):
    compared = []

    def compare_digest(a, b):
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(access.hmac, "compare_digest", compare_digest)
    assert decide(PROXIED, token=TOKEN, typed=TOKEN).allowed
    assert compared == [(TOKEN.encode(), TOKEN.encode())]


# ---------------------------------------------------------------------------- the retrain form


@pytest.mark.parametrize(
    "config",
    [
        hybrid_config(),
        recipe_config("fast"),
        recipe_config("lab"),
        hybrid_config(epochs=BROWSER_EPOCHS[1], batch_size=32, lr=0.05),
        recipe_config("fast", epochs=1, lr=1e-5, batch_size=8192),
    ],
)
def test_the_recipes_and_the_bounds_themselves_may_be_asked(config):
    assert browser_training_problem(config) is None


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"epochs": 1000}, "epochs must be 1 to 100"),
        ({"epochs": 101}, "epochs must be 1 to 100"),
        ({"batch_size": 1}, "batch size must be 32 to 8192"),
        ({"batch_size": 65536}, "batch size must be 32 to 8192"),
        ({"lr": 0.5}, "learning rate must be 1e-05 to 0.05"),
        ({"lr": 1e-9}, "learning rate must be 1e-05 to 0.05"),
    ],
)
def test_a_browser_may_not_ask_past_the_bounds(overrides, words):
    for config in (hybrid_config(**overrides), recipe_config("lab", **overrides)):
        problem = browser_training_problem(config)
        assert problem is not None and words in problem
        assert "python -m recsys train" in problem  # the command line still may
