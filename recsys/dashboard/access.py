"""Who may act on the served model from a browser, and what a browser may ask for.

Training, rollback, "Serve it anyway", a new evaluation and a dataset upload change
what every session is served, or spend the server's cores: they are the operator's.
A visitor is the operator when the visitor is this machine: the request's ``Host`` is
a loopback name, no proxy header (``X-Forwarded-*``, ``Forwarded``, ``X-Real-IP``,
``Via``) is present, and the server listens on loopback only. Anyone else acts only
where the operator opted in: ``RECSYS_ALLOW_RETRAIN=1`` (everyone who reaches the app),
or ``RECSYS_OPERATOR_TOKEN`` typed into the page, compared again on every action.

Plain Python: ``recsys.dashboard.ui.access`` reads the request (``st.context``) and
calls :func:`operator_access`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from recsys.config import HybridConfig, TrainConfig
from recsys.model.kinds import kind_of
from recsys.settings import ALLOW_RETRAIN_ENV, OPERATOR_TOKEN_ENV

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Headers that a proxy adds: their presence means the visitor is somewhere else.
PROXY_HEADERS = ("forwarded", "x-real-ip", "via")
PROXY_PREFIX = "x-forwarded-"
MIN_TOKEN_CHARS = 16  # a shorter operator token is too easy to guess; it is ignored


@dataclass(frozen=True)
class Access:
    """Whether this visitor may take the operator's actions, and why, in words.

    ``reason``: one line that says why (shown when refused). ``enable``: how the
    operator turns it on. ``token_accepted``: the operator set a usable token, so a
    box to type it makes sense.
    """

    allowed: bool
    reason: str
    enable: str = ""
    token_accepted: bool = False


def host_name(host: str) -> str:
    """The name in a ``Host`` header, without its port or an IPv6 address's brackets,
    lower case: ``"[::1]:8501"`` → ``"::1"``, ``"LocalHost:8501"`` → ``"localhost"``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host  # a bare name, or a bare IPv6 address


def local_visitor(
    headers: Iterable[tuple[str, str]], server_address: str | None, remote_ip: str | None
) -> tuple[bool, str]:
    """Whether the request comes from this machine, not through a proxy; and why not.

    ``headers``: the request's (name, value) pairs, a name possibly repeated.
    ``server_address``: what the server listens on (empty or None: every interface).
    ``remote_ip``: the connection's peer when known and not loopback, else None.
    """
    names: dict[str, list[str]] = {}
    for name, value in headers:
        names.setdefault(name.strip().lower(), []).append(value)
    proxied = sorted(n for n in names if n.startswith(PROXY_PREFIX) or n in PROXY_HEADERS)
    if proxied:
        return False, f"the request came through a proxy ({proxied[0]} header)"
    hosts = names.get("host", [])
    if len(hosts) != 1:
        return False, "the request did not name exactly one host"
    if host_name(hosts[0]) not in LOOPBACK_HOSTS:
        return False, "the page was opened under a name other than localhost"
    if host_name(server_address or "") not in LOOPBACK_HOSTS:
        return False, "the server listens beyond this machine"
    if remote_ip:
        return False, "the connection comes from another machine"
    return True, "this machine"


def token_matches(expected: str, typed: str | None) -> bool:
    """A constant-time comparison of the operator's token with the one typed."""
    if not typed or len(expected) < MIN_TOKEN_CHARS:
        return False
    return hmac.compare_digest(expected.encode(), typed.encode())


def operator_access(
    headers: Iterable[tuple[str, str]],
    server_address: str | None,
    remote_ip: str | None,
    *,
    allow_everyone: bool,
    token: str,
    typed_token: str | None,
) -> Access:
    """Whether this visitor may act as the operator (train, roll back, serve anyway,
    evaluate, upload data), with the reason and how the operator enables it.

    ``allow_everyone``: ``RECSYS_ALLOW_RETRAIN`` is on. ``token``: the operator's
    ``RECSYS_OPERATOR_TOKEN`` ("" when unset); ``typed_token``: what this visitor typed.
    """
    local, why = local_visitor(headers, server_address, remote_ip)
    if local:
        return Access(True, "you are on the server's machine")
    if allow_everyone:
        return Access(True, f"the operator set {ALLOW_RETRAIN_ENV}=1")
    usable = len(token) >= MIN_TOKEN_CHARS
    if usable and token_matches(token, typed_token):
        return Access(True, "you gave the operator token", token_accepted=True)
    enable = (
        f"On the server, run `python -m recsys …`; or start it with {OPERATOR_TOKEN_ENV} "
        f"(at least {MIN_TOKEN_CHARS} characters) and type the token here, or with "
        f"{ALLOW_RETRAIN_ENV}=1 for everyone."
    )
    if token and not usable:
        why += f"; {OPERATOR_TOKEN_ENV} is shorter than {MIN_TOKEN_CHARS} characters"
    elif usable and typed_token:
        why += "; the token typed is not the operator's"
    return Access(False, why, enable, token_accepted=usable)


# ---------------------------------------------------------------------------- the retrain form

# What a browser may ask a training for. The command line keeps its own wider ranges.
BROWSER_EPOCHS = (1, 100)
BROWSER_BATCH = (32, 8192)
BROWSER_LR = (1e-5, 0.05)


def browser_training_problem(config: TrainConfig | HybridConfig) -> str | None:
    """Why a browser may not start this training (one line), or None when it may.

    Checked on the whole config, so a recipe's own values are held to the same bounds
    as the ones typed in the form; the form's widgets use the same bounds.
    """
    checks = (
        ("epochs", config.epochs, BROWSER_EPOCHS),
        ("batch size", config.batch_size, BROWSER_BATCH),
        ("learning rate", config.lr, BROWSER_LR),
    )
    for name, value, (low, high) in checks:
        if not low <= value <= high:
            return (
                f"The {name} must be {low:g} to {high:g} from the browser (got {value:g}); "
                "`python -m recsys train` on the server takes any."
            )
    if kind_of(config).most_epochs(config) > BROWSER_EPOCHS[1]:
        return f"At most {BROWSER_EPOCHS[1]} epochs from the browser."
    return None
