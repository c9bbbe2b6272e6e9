"""marac page (placeholder until built)."""

import streamlit as st

from adapt.ui import session

session.guard("marac")
st.title("marac")
