"""What each app page shows, computed by the package: pure functions over the
history, features and stored records, returning frames ready to draw. The
Streamlit pages only call these and draw."""
