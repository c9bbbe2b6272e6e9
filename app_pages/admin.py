"""Accounts (administrators): add an account, disable or enable it, change its
role, reset its password. Every change is audited as ``account_change`` under
the administrator's name; the same changes are ``adapt users`` on the command line."""

from __future__ import annotations

import streamlit as st

from adapt.core.access import ROLES
from adapt.services import accounts, session

session.guard("admin", "manage_accounts")
st.title("Accounts")
st.caption(
    "Who may sign in, with which role. Single sign-on accounts are named by their e-mail "
    "address and have no password here. Every change is recorded in the audit."
)

if done := st.session_state.pop("admin_done", None):
    st.success(done)

frame = accounts.users()
st.dataframe(
    frame.assign(role=frame["role"].map(ROLES).fillna(frame["role"])),
    hide_index=True,
    column_config={
        "username": "User name", "display_name": "Name", "role": "Role", "active": "Active",
        "created_at": st.column_config.DatetimeColumn("Created", format="DD/MM/YYYY HH:mm"),
        "sign_in": "Signs in with",
        "locked_until": st.column_config.DatetimeColumn("Locked until", format="HH:mm"),
    },
)  # fmt: skip


def _role_label(role: str) -> str:
    return ROLES[role]


add_tab, change_tab = st.tabs(["Add an account", "Change an account"])

with add_tab, st.form("add_account", clear_on_submit=True):
    username = st.text_input("User name (an e-mail address for single sign-on)", max_chars=100)
    display_name = st.text_input("Name shown in the app", max_chars=200)
    role = st.selectbox("Role", list(ROLES), index=None, format_func=_role_label,
                        placeholder="Choose a role")  # fmt: skip
    kind = st.radio("Signs in with", ["password", "single sign-on"], horizontal=True)
    password = st.text_input(
        f"Password (at least {accounts.MIN_PASSWORD_LENGTH} characters)", type="password"
    )
    again = st.text_input("Password again", type="password")
    if st.form_submit_button("Add the account"):
        if role is None:
            st.error("Choose a role.")
        elif kind == "password" and password != again:
            st.error("The two passwords differ.")
        else:
            try:
                accounts.add(username, display_name, role,
                             password if kind == "password" else None)  # fmt: skip
            except accounts.AccountError as err:
                st.error(str(err))
            else:
                st.session_state["admin_done"] = f"Account {username.strip()} added."
                st.rerun()

with change_tab:
    names = frame["username"].tolist()
    who = st.selectbox("Account", names, index=None, placeholder="Choose an account")
    if who is not None:
        row = frame.set_index("username").loc[who]
        st.text(f"{row['display_name']} — {ROLES.get(row['role'], row['role'])} — "
                f"{'active' if row['active'] else 'disabled'}")  # fmt: skip
        what = st.radio(
            "Change",
            ["Disable" if row["active"] else "Enable", "Set the role", "Reset the password"],
            horizontal=True,
        )
        with st.form("change_account", clear_on_submit=True):
            new_role = new_password = again = None
            if what == "Set the role":
                new_role = st.selectbox(
                    "New role", list(ROLES), index=None, format_func=_role_label,
                    placeholder="Choose a role",
                )  # fmt: skip
            elif what == "Reset the password":
                new_password = st.text_input(
                    f"New password (at least {accounts.MIN_PASSWORD_LENGTH} characters)",
                    type="password",
                )
                again = st.text_input("New password again", type="password")
            if st.form_submit_button(what):
                try:
                    if what in ("Disable", "Enable"):
                        accounts.set_active(who, what == "Enable")
                    elif what == "Set the role":
                        if new_role is None:
                            raise accounts.AccountError("choose a role")
                        accounts.set_role(who, new_role)
                    else:
                        if new_password != again:
                            raise accounts.AccountError("the two passwords differ")
                        accounts.reset_password(who, new_password or "")
                except accounts.AccountError as err:
                    st.error(str(err))
                else:
                    st.session_state["admin_done"] = f"{what}: done for {who}."
                    st.rerun()
