"""The digitcore explainer app: run with ``streamlit run streamlit_app.py``.

This entry point only declares the pages. Each page lives in ``pages/`` and shares
the sidebar, error messages and cached loaders of ``pages/ui.py``.
"""

import streamlit as st

# The pages have no icons: Streamlit fetches a Material icon page's favicon from
# fonts.gstatic.com, and the app should work offline. An emoji favicon is drawn locally.
st.set_page_config(page_title="digitcore: how networks read and write digits", page_icon="✍️",
                   layout="wide")

# A fresh server's first run can skip this file and run a page file directly, because
# Streamlit still supports its older mode that lists every file of a pages/ folder.
# ui.sidebar() consumes this marker and returns here when it is missing.
st.session_state["entry_point_ran"] = True

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", default=True),
    st.Page("pages/recognise.py", title="Recognise", url_path="recognise"),
    st.Page("pages/draw.py", title="Draw", url_path="draw"),
    st.Page("pages/latent_space.py", title="Latent space", url_path="latent_space"),
    st.Page("pages/create.py", title="Create", url_path="create"),
    st.Page("pages/train.py", title="Train", url_path="train"),
])
navigation.run()
