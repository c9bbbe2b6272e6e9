"""The web server ``adapt app`` runs: the Streamlit app (``streamlit_app.py``)
served with ADAPT's sign-in routes, security headers and websocket filter
(:mod:`adapt.services.server`). ``streamlit run streamlit_server.py`` finds
``app`` below and serves it; ``streamlit_app.py`` stays the script that draws.
"""

from __future__ import annotations

import streamlit as st

from adapt.services import server

app = st.App("streamlit_app.py", routes=server.routes(), middleware=server.middleware())
