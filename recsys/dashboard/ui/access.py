"""Who may act as the operator, on screen: the request (``st.context``) and the
operator's settings go to ``recsys.dashboard.access``; a refusal says why in one line,
and where the operator set a token, a box takes it.

Every action checks again when it happens (:func:`authorized`), with the token this
session typed compared anew: nothing is remembered as "signed in".
"""

from __future__ import annotations

import streamlit as st

from recsys.dashboard.access import Access, operator_access
from recsys.dashboard.text import md_escape
from recsys.dashboard.ui.widgets import show_error
from recsys.settings import everyone_may_operate, operator_token

_TYPED_TOKEN = "_operator_token"  # what this session typed; compared on every action
_TOKEN_BOX = "operator_token_box"


def visitor_request() -> tuple[list[tuple[str, str]], str | None]:
    """This session's request: its headers, (name, value) each, and the peer's address
    when it is not this machine. No headers when the session has no browser (a script
    run on its own): that counts as not local."""
    headers = st.context.headers
    ip = st.context.ip_address
    pairs = [(name, value) for name in headers for value in headers.get_all(name)]
    return pairs, ip if isinstance(ip, str) else None


def visitor_access() -> Access:
    """Whether this visitor may train, roll back, serve anyway, evaluate or upload."""
    headers, remote_ip = visitor_request()
    return operator_access(
        headers,
        st.get_option("server.address"),
        remote_ip,
        allow_everyone=everyone_may_operate(),
        token=operator_token(),
        typed_token=st.session_state.get(_TYPED_TOKEN),
    )


def may_operate(what: str, *, sign_in: bool = False) -> bool:
    """Whether this visitor may do ``what`` (e.g. "Retraining"). When not: one line
    that says why and how the operator turns it on, and with ``sign_in``, the box for
    the operator's token (where one is set). Call with ``sign_in`` once per page."""
    access = visitor_access()
    if access.allowed:
        if sign_in and access.token_accepted:
            _signed_in()
        return True
    line = f"{what} is for the operator, off here: {md_escape(access.reason)}. {access.enable}"
    if sign_in:
        st.info(line, icon=":material/lock:")
        if access.token_accepted:
            st.text_input(
                "Operator token",
                type="password",
                key=_TOKEN_BOX,
                on_change=_keep_token,
                help="The token the operator set in RECSYS_OPERATOR_TOKEN on the server. "
                "It is checked again on every action.",
            )
    else:
        st.caption(f":material/lock: {line}")
    return False


def authorized(what: str) -> bool:
    """Checked again at the moment of an action; refused: an st.error that says why."""
    access = visitor_access()
    if not access.allowed:
        show_error(f"{what} was refused: {access.reason}.", access.enable)
    return access.allowed


def _keep_token() -> None:
    # Kept outside the widget: a widget's value is dropped when the page is left.
    st.session_state[_TYPED_TOKEN] = st.session_state.get(_TOKEN_BOX, "")


def _signed_in() -> None:
    if st.button("Forget the operator token", key="operator_forget", icon=":material/logout:"):
        st.session_state.pop(_TYPED_TOKEN, None)
        st.session_state.pop(_TOKEN_BOX, None)
        st.rerun()
