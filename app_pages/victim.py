"""Victim (MARAC chairs, officers): a victim's timeline, the perpetrators and
their other victims (issue 14; being built)."""

from __future__ import annotations

import streamlit as st

from adapt.services import session

session.guard("victim")
st.title("Victim")
st.write("The victim page is being built.")
