"""tuning page (placeholder until built)."""

import streamlit as st

from adapt.ui import session

session.guard("tuning")
st.title("tuning")
