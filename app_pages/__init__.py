"""The app's pages: each draws and calls adapt.services (see streamlit_app.py)."""
