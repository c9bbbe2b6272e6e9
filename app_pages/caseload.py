"""Caseload (IOM officers): the people this officer manages (issue 14; being built)."""

from __future__ import annotations

import streamlit as st

from adapt.services import session

session.guard("caseload")
st.title("Caseload")
st.write("The caseload page is being built.")
