"""audit page (placeholder until built)."""

import streamlit as st

from adapt.ui import session

session.guard("audit")
st.title("audit")
